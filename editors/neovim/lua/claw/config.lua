-- Configuration: built-in defaults < vim.g.claw < require('claw').setup(opts).
-- Nothing is required: the defaults start `claw-lsp` from $PATH for any file buffer.
local M = {}

M.TIERS = { 'read-only', 'write', 'shell', 'unsafe' }

---@class claw.ChatConfig
---@field layout 'split'|'vsplit'|'float'
---@field size number  lines/columns, or a fraction of the editor when < 1
---@field auto_open boolean  open the conversation on :Claw ask
---@field focus boolean  move the cursor into the conversation when it opens
---@field keymaps table  chat buffer keys: send = { n, i }, close, cancel, accept, reject, diff, undo (false disables one)

---@class claw.Config
---@field cmd string[]  how to start the server
---@field autostart boolean  attach to file buffers automatically (vim.lsp.enable)
---@field root_markers string[]  files that mark a workspace folder
---@field server claw.ServerOptions  initializationOptions / settings.claw (options_types.lua, generated)
---@field mcp_servers table?  MCP servers, as in Claude Code: { name = { command, args, env } | { type = 'http', url } }
---@field chat claw.ChatConfig
---@field save_documents boolean  let the server ask to save buffers it edited (claw/saveDocuments)
---@field save_unopened_edits boolean  write agent edits to files that are not open in a window

---@type claw.Config
M.defaults = {
  cmd = { 'claw-lsp' },
  autostart = true,
  root_markers = { '.git', '.claw', 'CLAUDE.md', 'AGENTS.md', '.hg', '.jj' },
  server = {},
  chat = {
    layout = 'split',
    size = 0.35,
    auto_open = true,
    focus = false,
    keymaps = {
      send = { n = '<CR>', i = '<C-s>' },
      close = 'q',
      cancel = '<C-c>',
      accept = 'ga', -- the proposal under the cursor, else the plan shown
      reject = 'gr',
      diff = 'gd', -- the edit's or proposal's diff
      undo = 'gu', -- undo the last turn
    },
  },
  save_documents = true,
  save_unopened_edits = true,
}

---@type table?
local from_setup = nil

--- Called by setup(); later calls replace earlier ones.
---@param opts table?
function M.set(opts)
  from_setup = opts or {}
end

---@return claw.Config
function M.get()
  local from_global = vim.g.claw
  if type(from_global) ~= 'table' then
    from_global = {}
  end
  return vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), from_global, from_setup or {})
end

--- The workspace folder for a buffer: the nearest root marker, else the working directory when
--- the file lives under it, else the file's own directory (the server only edits inside folders).
---@param bufnr integer
---@return string
function M.root_for(bufnr)
  local markers = M.get().root_markers
  local root = vim.fs.root(bufnr, markers)
  if root then
    return root
  end
  local cwd = vim.fn.getcwd()
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or vim.bo[bufnr].buftype ~= '' then
    return cwd
  end
  local path = vim.fs.normalize(vim.fn.fnamemodify(name, ':p'))
  if vim.startswith(path, vim.fs.normalize(cwd) .. '/') then
    return cwd
  end
  return vim.fs.dirname(path)
end

--- The vim.lsp.Config for the `claw` server (used by lsp/claw.lua and setup()).
---@return vim.lsp.Config
function M.lsp_config()
  local cfg = M.get()
  local init_options = vim.deepcopy(cfg.server)
  -- lsp: claw's language tools ask this editor's language servers (claw/lsp, lsp_bridge.lua).
  init_options.clientCapabilities = { saveDocuments = cfg.save_documents, lsp = true }
  -- Only in initializationOptions: the server takes MCP servers (command lines it will run)
  -- from nowhere the workspace can reach. An empty table would encode as a JSON array.
  if type(cfg.mcp_servers) == 'table' and next(cfg.mcp_servers) ~= nil then
    init_options.mcpServers = vim.deepcopy(cfg.mcp_servers)
  end
  -- Lazy requires: nothing below loads until the server actually talks to us.
  local function lazy(name)
    return function(...)
      return require('claw.handlers')[name](...)
    end
  end
  local function command(name)
    return function(...)
      return require('claw.actions')[name](...)
    end
  end
  return {
    cmd = cfg.cmd,
    root_dir = function(bufnr, on_dir)
      on_dir(M.root_for(bufnr))
    end,
    root_markers = cfg.root_markers,
    init_options = init_options,
    settings = { claw = vim.deepcopy(cfg.server) },
    handlers = {
      ['claw/event'] = lazy('event'),
      ['claw/status'] = lazy('status'),
      ['claw/saveDocuments'] = lazy('save_documents'),
      ['window/showMessageRequest'] = lazy('show_message_request'),
      ['workspace/applyEdit'] = lazy('apply_edit'),
      ['claw/lsp'] = function(...)
        return require('claw.lsp_bridge').handle_request(...)
      end,
    },
    on_attach = function(client, bufnr)
      require('claw.lsp_bridge').attach(client, bufnr)
      require('claw.handlers').refresh_status(client)
    end,
    -- Code actions carry these commands; running them here routes the turn through the
    -- conversation buffer and keeps the proposal list current.
    commands = {
      ['claw.ask'] = command('ask_from_code_action'),
      ['claw.acceptProposal'] = command('accept_from_code_action'),
      ['claw.rejectProposal'] = command('reject_from_code_action'),
    },
  }
end

return M
