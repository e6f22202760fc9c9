-- The text each file had before the agent first edited it in a turn: the chat shows an applied
-- edit as a diff against it (vim.diff, Neovim's own xdiff) and `gd` opens both side by side.
local state = require('claw.state')

local M = {}

local MAX_SNAPSHOTS = 200
---@type table<string, string[]>
local texts = {}
---@type string[]
local order = {}

---@param session string?
---@param turn integer?
---@param uri string
---@return string
function M.key(session, turn, uri)
  return ('%s:%s:%s'):format(session or '?', tostring(turn or '?'), uri)
end

---@param uri string
---@return string[]?
local function current_lines(uri)
  local buf = vim.uri_to_bufnr(uri)
  if vim.api.nvim_buf_is_loaded(buf) then
    return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  end
  local ok, lines = pcall(vim.fn.readfile, vim.uri_to_fname(uri))
  return ok and lines or nil
end

--- Called by workspace/applyEdit before it applies `edit` for the client's running turn.
---@param edit table  LSP WorkspaceEdit
---@param client_id integer
function M.capture(edit, client_id)
  local cs = state.client(client_id)
  local uris = {}
  for uri in pairs(edit.changes or {}) do
    uris[#uris + 1] = uri
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument and change.textDocument.uri then
      uris[#uris + 1] = change.textDocument.uri
    elseif change.kind == 'create' and change.uri then
      uris[#uris + 1] = change.uri
    end
  end
  for _, uri in ipairs(uris) do
    local key = M.key(cs.session, cs.turn, uri)
    if not texts[key] then
      texts[key] = current_lines(uri) or {}
      order[#order + 1] = key
      if #order > MAX_SNAPSHOTS then
        texts[table.remove(order, 1)] = nil
      end
    end
  end
end

---@param key string
---@return string?  the unified diff of the file now against its snapshot
function M.diff(key)
  local before = texts[key]
  local uri = key:match('^[^:]*:[^:]*:(.*)$')
  local after = uri and current_lines(uri)
  if not before or not after then
    return nil
  end
  local a, b = table.concat(before, '\n') .. '\n', table.concat(after, '\n') .. '\n'
  local diff = vim.diff(a, b, { ctxlen = 2 })
  return type(diff) == 'string' and diff or nil
end

--- Opens the file beside its text before the turn, in diff mode, in a new tab.
---@param key string
---@return boolean opened
function M.open_diff(key)
  local before = texts[key]
  local uri = key:match('^[^:]*:[^:]*:(.*)$')
  if not before or not uri then
    return false
  end
  vim.cmd.tabnew(vim.fn.fnameescape(vim.uri_to_fname(uri)))
  vim.cmd.diffthis()
  vim.cmd('leftabove vnew')
  local scratch = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, before)
  local bo = vim.bo[scratch]
  bo.buftype, bo.bufhidden, bo.swapfile, bo.modifiable = 'nofile', 'wipe', false, false
  bo.filetype = vim.filetype.match({ filename = vim.uri_to_fname(uri) }) or ''
  pcall(vim.api.nvim_buf_set_name, scratch, 'claw://before/' .. vim.fn.fnamemodify(vim.uri_to_fname(uri), ':t'))
  vim.cmd.diffthis()
  vim.keymap.set('n', 'q', '<cmd>tabclose<cr>', { buffer = scratch, nowait = true, desc = 'Close the claw diff' })
  return true
end

return M
