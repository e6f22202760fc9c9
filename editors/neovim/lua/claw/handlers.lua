-- Handlers for what claw-lsp sends us (registered per client in the `claw` LSP config).
local state = require('claw.state')

local M = {}

local function redraw_status()
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'ClawStatus', modeline = false })
  pcall(vim.cmd.redrawstatus, { bang = true })
end

--- `claw/event`: the live turn. Also re-emitted as `User ClawEvent` (data = params).
function M.event(_, params, ctx)
  if type(params) ~= 'table' then
    return
  end
  local client_state = state.client(ctx.client_id)
  -- A subagent's events (`parent` set) name its own session; the user's stays current.
  local nested = type(params.parent) == 'table'
  if not nested then
    client_state.session = params.session or client_state.session
    client_state.turn = params.turn or client_state.turn
    if params.kind == 'done' then
      client_state.busy = false
    elseif params.kind ~= 'error' then
      client_state.busy = true
    end
  end
  if params.kind == 'proposal' and params.proposal then
    state.add_proposal({
      proposal = params.proposal,
      uri = params.uri,
      diff = params.diff or '',
      range = params.range,
      client_id = ctx.client_id,
    })
  end
  local ok, err = pcall(require('claw.chat').on_event, params)
  if not ok then
    vim.notify('claw: could not render event: ' .. tostring(err), vim.log.levels.DEBUG)
  end
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'ClawEvent', modeline = false, data = params })
  redraw_status()
end

--- `claw/status`: tier / busy / session changes for the statusline.
function M.status(_, params, ctx)
  if type(params) ~= 'table' then
    return
  end
  local client_state = state.client(ctx.client_id)
  for _, key in ipairs({ 'tier', 'session', 'folder' }) do
    if params[key] ~= nil and params[key] ~= vim.NIL then
      client_state[key] = params[key]
    end
  end
  if type(params.contextTokens) == 'number' then
    client_state.context_tokens = params.contextTokens
  end
  if type(params.contextWindow) == 'number' then
    client_state.context_window = params.contextWindow
  end
  if params.busy ~= nil then
    client_state.busy = params.busy == true
  end
  redraw_status()
end

--- Asks for claw.status once per client (tier, context meter) so the statusline has them
--- before the first claw/status notification.
---@param client vim.lsp.Client
function M.refresh_status(client)
  local client_state = state.client(client.id)
  if client_state.status_requested then
    return
  end
  client_state.status_requested = true
  require('claw.client').exec(client, 'claw.status', {}, function(err, result)
    if not err and type(result) == 'table' then
      M.status(nil, result, { client_id = client.id })
    end
  end)
end

--- Shows a vim.ui.select (the user's picker) from inside the LSP request coroutine and waits
--- for the answer. Returns vim.NIL when dismissed, which the server treats as "deny".
---@param items table[]
---@param prompt string
---@param kind string
---@return table|userdata
local function select_in_coroutine(items, prompt, kind)
  local co, is_main = coroutine.running()
  if not co or is_main then
    return vim.NIL -- cannot wait for an answer here: decline rather than block
  end
  vim.ui.select(items, {
    prompt = prompt,
    kind = kind,
    format_item = function(item)
      return item.title
    end,
  }, function(choice)
    -- Scheduled so a synchronous picker cannot resume before we yield.
    vim.schedule(function()
      coroutine.resume(co, choice or vim.NIL)
    end)
  end)
  return coroutine.yield()
end

--- `window/showMessageRequest`: approvals ("Allow once", "Allow for session", "Deny").
function M.show_message_request(_, params, _)
  if type(params) ~= 'table' then
    return vim.NIL
  end
  local actions = params.actions
  local message = tostring(params.message or '')
  if type(actions) ~= 'table' or #actions == 0 then
    vim.notify(message, vim.log.levels.INFO)
    return vim.NIL
  end
  local is_approval = vim.iter(actions):any(function(action)
    return action.title == 'Deny'
  end)
  if is_approval then
    pcall(require('claw.chat').note, '⚠ approval asked: ' .. message:gsub('\n', ' '))
  end
  return select_in_coroutine(actions, message, is_approval and 'claw_approval' or 'claw_message')
end

---@param uri string
---@return integer?
local function loaded_buffer_for(uri)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.uri_from_bufnr(buf) == uri then
      return buf
    end
  end
  return nil
end

--- A TextDocumentEdit pinned to a version older than the buffer must not be applied (the user
--- typed since the server computed it); Neovim's default handler skips it yet says "applied".
---@param edit table  WorkspaceEdit
---@return string? reason
local function stale_reason(edit)
  for _, change in ipairs(edit.documentChanges or {}) do
    local document = change.textDocument
    if change.kind == nil and type(document) == 'table' and type(document.version) == 'number' then
      local buf = loaded_buffer_for(document.uri)
      local current = buf and vim.lsp.util.buf_versions[buf]
      if current and current ~= document.version then
        return ('%s changed (version %d, edit for %d)'):format(
          vim.fn.fnamemodify(vim.uri_to_fname(document.uri), ':t'),
          current,
          document.version
        )
      end
    end
  end
  return nil
end

---@param edit table
---@return boolean
local function needs_confirmation(edit)
  for _, annotation in pairs(edit.changeAnnotations or {}) do
    if type(annotation) == 'table' and annotation.needsConfirmation == true then
      return true
    end
  end
  return false
end

---@param edit table
---@return string[]
local function edited_uris(edit)
  local uris = {}
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind == nil and type(change.textDocument) == 'table' then
      uris[#uris + 1] = change.textDocument.uri
    end
  end
  for uri in pairs(edit.changes or {}) do
    uris[#uris + 1] = uri
  end
  return uris
end

--- Files the user does not have open would otherwise become hidden modified buffers: invisible,
--- unseen by shell commands and tests, and an E37 at :quit. Those are written after the edit
--- (config `save_unopened_edits`); buffers the user has open are left for the user to save.
---@param edit table
---@return string[] uris
local function autosave_candidates(edit)
  if not require('claw.config').get().save_unopened_edits then
    return {}
  end
  local out = {}
  for _, uri in ipairs(edited_uris(edit)) do
    local buf = loaded_buffer_for(uri)
    local ours = buf and vim.b[buf].claw_autosave
      and not vim.bo[buf].modified
      and #vim.fn.win_findbuf(buf) == 0
    if not buf or ours then
      out[#out + 1] = uri
    end
  end
  return out
end

---@param uris string[]
local function save_quietly(uris)
  for _, uri in ipairs(uris) do
    local buf = loaded_buffer_for(uri)
    if buf and vim.bo[buf].modified then
      vim.b[buf].claw_autosave = true
      pcall(vim.api.nvim_buf_call, buf, function()
        vim.cmd('silent write')
      end)
    end
  end
end

--- `workspace/applyEdit`: version-checked, no stdout echo, needsConfirmation honoured unless the
--- user just accepted this very change.
function M.apply_edit(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client or type(params) ~= 'table' or type(params.edit) ~= 'table' then
    return { applied = false, failureReason = 'no edit' }
  end
  local edit = params.edit
  local stale = stale_reason(edit)
  if stale then
    return { applied = false, failureReason = stale }
  end
  if needs_confirmation(edit) and state.accepting == 0 then
    local choice = select_in_coroutine(
      { { title = 'Apply' }, { title = 'Skip' } },
      tostring(params.label or 'claw edit') .. ': apply?',
      'claw_confirm'
    )
    if type(choice) ~= 'table' or choice.title ~= 'Apply' then
      return { applied = false, failureReason = 'declined by the user' }
    end
  end
  local autosave = autosave_candidates(edit)
  -- The text before the turn's first edit of each file: the chat shows the edit as a diff.
  pcall(require('claw.snapshots').capture, edit, ctx.client_id)
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, edit, client.offset_encoding)
  if not ok then
    return { applied = false, failureReason = tostring(err) }
  end
  save_quietly(autosave)
  return { applied = true }
end

---@param client vim.lsp.Client
---@param path string
---@return boolean
local function inside_workspace(client, path)
  for _, folder in ipairs(client.workspace_folders or {}) do
    local root = vim.fs.normalize(vim.uri_to_fname(folder.uri))
    if path == root or vim.startswith(path, root .. '/') then
      return true
    end
  end
  return false
end

--- `claw/saveDocuments` {uris} -> {saved}: writes the named buffers of this workspace.
function M.save_documents(_, params, ctx)
  local saved = {}
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client or not require('claw.config').get().save_documents or type(params) ~= 'table' then
    return { saved = saved }
  end
  for _, uri in ipairs(params.uris or {}) do
    local buf = loaded_buffer_for(uri)
    local path = buf and vim.fs.normalize(vim.api.nvim_buf_get_name(buf))
    if buf and path and inside_workspace(client, path) then
      if vim.bo[buf].modified then
        pcall(vim.api.nvim_buf_call, buf, function()
          vim.cmd('silent write')
        end)
      end
      if not vim.bo[buf].modified then
        saved[#saved + 1] = uri
      end
    end
  end
  return { saved = saved }
end

return M
