-- Finding (or starting) the claw-lsp client for a buffer and calling its commands.
local config = require('claw.config')

local M = {}

M.NAME = 'claw'
local START_TIMEOUT_MS = 20000
local POLL_MS = 20

---@param bufnr integer
---@return boolean
local function is_file_buffer(bufnr)
  return vim.api.nvim_buf_is_valid(bufnr)
    and vim.bo[bufnr].buftype == ''
    and vim.api.nvim_buf_get_name(bufnr) ~= ''
end

--- The buffer a command should act on: the current one when it is a file, else the file the
--- conversation was last asked about (commands typed inside the conversation buffer).
---@return integer?
function M.source_buffer()
  local current = vim.api.nvim_get_current_buf()
  if is_file_buffer(current) then
    return current
  end
  local last = require('claw.state').last_source_buf
  if last and is_file_buffer(last) then
    return last
  end
  return nil
end

---@param bufnr integer?
---@return vim.lsp.Client?
function M.find(bufnr)
  if bufnr then
    local attached = vim.lsp.get_clients({ bufnr = bufnr, name = M.NAME })[1]
    if attached then
      return attached
    end
  end
  return vim.lsp.get_clients({ name = M.NAME })[1]
end

--- Starts (or reuses) a claw client; attached to `bufnr` when given.
---@param bufnr integer?
---@return integer? client_id
---@return string? error
function M.start(bufnr)
  local resolved = vim.lsp.config[M.NAME]
  if not resolved then
    return nil, 'no `claw` LSP config found (is the plugin on the runtimepath?)'
  end
  local cfg = vim.deepcopy(resolved)
  cfg.name = M.NAME
  cfg.root_dir = config.root_for(bufnr or vim.api.nvim_get_current_buf())
  local cmd = cfg.cmd
  if type(cmd) == 'table' and vim.fn.executable(cmd[1]) ~= 1 then
    return nil, ('claw-lsp not found: %q is not executable (set vim.g.claw.cmd)'):format(cmd[1])
  end
  local id = vim.lsp.start(cfg, { bufnr = bufnr, attach = bufnr ~= nil, silent = true })
  if not id then
    return nil, 'claw-lsp failed to start (see :checkhealth claw and :LspLog)'
  end
  return id, nil
end

--- Calls `on_ready(client)` once a claw client for the buffer is initialized, starting one when
--- none runs. Never blocks the editor; errors go to `on_error` (default: vim.notify).
---@param bufnr integer?
---@param on_ready fun(client: vim.lsp.Client)
---@param on_error fun(message: string)?
function M.with_client(bufnr, on_ready, on_error)
  on_error = on_error
    or function(message)
      vim.notify('claw: ' .. message, vim.log.levels.ERROR)
    end
  local client = bufnr and vim.lsp.get_clients({ bufnr = bufnr, name = M.NAME })[1] or nil
  if not client and not (bufnr and is_file_buffer(bufnr)) then
    client = M.find(nil)
  end
  if not client then
    -- Attaches the file to the client of its folder (started when none runs yet).
    local id, err = M.start(bufnr)
    if not id then
      on_error(err or 'could not start claw-lsp')
      return
    end
    client = vim.lsp.get_client_by_id(id)
  end
  if not client then
    on_error('claw-lsp exited')
    return
  end
  local waited = 0
  local function poll()
    if client:is_stopped() then
      on_error('claw-lsp exited (see :LspLog)')
    elseif client.initialized then
      on_ready(client)
    elseif waited >= START_TIMEOUT_MS then
      on_error('claw-lsp did not finish initializing')
    else
      waited = waited + POLL_MS
      vim.defer_fn(poll, POLL_MS)
    end
  end
  poll()
end

--- The workspace folder URI a client serves for a buffer.
---@param client vim.lsp.Client
---@param bufnr integer?
---@return string?
function M.folder_uri(client, bufnr)
  local folders = client.workspace_folders or {}
  if bufnr and is_file_buffer(bufnr) then
    local path = vim.fs.normalize(vim.api.nvim_buf_get_name(bufnr))
    for _, folder in ipairs(folders) do
      local root = vim.fs.normalize(vim.uri_to_fname(folder.uri))
      if path == root or vim.startswith(path, root .. '/') then
        return folder.uri
      end
    end
  end
  if folders[1] then
    return folders[1].uri
  end
  return client.root_dir and vim.uri_from_fname(client.root_dir) or nil
end

--- Runs a claw.* command with its one JSON-object argument.
---@param client vim.lsp.Client
---@param command string
---@param argument table
---@param callback fun(err: table?, result: any)?
---@param bufnr integer?
---@param extra table?  extra ExecuteCommandParams fields (workDoneToken)
---@return integer? request_id
function M.exec(client, command, argument, callback, bufnr, extra)
  local params = vim.tbl_extend('force', extra or {}, {
    command = command,
    -- An empty Lua table would encode as a JSON array; the server wants an object.
    arguments = { next(argument) == nil and vim.empty_dict() or argument },
  })
  local ok, request_id = client:request('workspace/executeCommand', params, function(err, result)
    if callback then
      callback(err, result)
    end
  end, bufnr)
  if not ok then
    if callback then
      callback({ message = 'claw-lsp is not running' }, nil)
    end
    return nil
  end
  return request_id
end

--- Convenience: find/start the client for the source buffer and run one command.
---@param command string
---@param argument table|fun(client: vim.lsp.Client, bufnr: integer?): table
---@param callback fun(err: table?, result: any, client: vim.lsp.Client)?
function M.call(command, argument, callback)
  local bufnr = M.source_buffer()
  M.with_client(bufnr, function(client)
    local arg = type(argument) == 'function' and argument(client, bufnr) or argument
    M.exec(client, command, arg, function(err, result)
      if callback then
        callback(err, result, client)
      elseif err then
        vim.notify(('claw: %s failed: %s'):format(command, err.message or '?'), vim.log.levels.ERROR)
      end
    end, bufnr)
  end)
end

return M
