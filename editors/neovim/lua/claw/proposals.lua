-- Proposals (editMode = propose): review as a diff, accept or reject.
local chat = require('claw.chat')
local client_mod = require('claw.client')
local state = require('claw.state')

local M = {}

--- Applies a unified diff to a file's lines. Returns nil when the context does not match (the
--- file changed since), so the caller can fall back to showing the raw diff.
---@param lines string[]
---@param diff string
---@return string[]?
function M.apply_unified_diff(lines, diff)
  local out = {}
  local next_original = 1
  local old_left, new_left = 0, 0
  local saw_hunk = false
  for _, line in ipairs(vim.split(diff, '\n', { plain = true })) do
    local in_hunk = old_left > 0 or new_left > 0
    local old_start, old_count, new_count = line:match('^@@ %-(%d+),?(%d*) %+%d+,?(%d*) @@')
    if not in_hunk and old_start then
      saw_hunk = true
      old_count = old_count == '' and 1 or tonumber(old_count)
      new_count = new_count == '' and 1 or tonumber(new_count)
      old_start = tonumber(old_start)
      -- A pure insertion names the line it goes after.
      local copy_until = old_count == 0 and old_start or old_start - 1
      while next_original <= copy_until do
        if lines[next_original] == nil then
          return nil
        end
        out[#out + 1] = lines[next_original]
        next_original = next_original + 1
      end
      old_left, new_left = old_count, new_count
    elseif in_hunk then
      local prefix, rest = line:sub(1, 1), line:sub(2)
      if prefix == ' ' or line == '' then
        if lines[next_original] ~= rest then
          return nil
        end
        out[#out + 1] = rest
        next_original = next_original + 1
        old_left, new_left = old_left - 1, new_left - 1
      elseif prefix == '-' then
        if lines[next_original] ~= rest then
          return nil
        end
        next_original = next_original + 1
        old_left = old_left - 1
      elseif prefix == '+' then
        out[#out + 1] = rest
        new_left = new_left - 1
      elseif prefix ~= '\\' then
        return nil
      end
    end
  end
  if not saw_hunk then
    return nil
  end
  for index = next_original, #lines do
    out[#out + 1] = lines[index]
  end
  return out
end

---@param id string
---@return vim.lsp.Client?
local function client_for(id)
  local item = state.proposals[id]
  if item then
    local client = vim.lsp.get_client_by_id(item.client_id)
    if client then
      return client
    end
  end
  return client_mod.find(client_mod.source_buffer())
end

---@param id string
local function close_diff_views(id)
  for _, tab in ipairs(vim.api.nvim_list_tabpages()) do
    local ok, shown = pcall(vim.api.nvim_tabpage_get_var, tab, 'claw_proposal')
    if ok and shown == id and #vim.api.nvim_list_tabpages() > 1 then
      vim.cmd.tabclose(vim.api.nvim_tabpage_get_number(tab))
    end
  end
end

---@param id string
---@param command string
---@param verb string
---@param on_done fun(err: table?, result: any)?
local function resolve(id, command, verb, on_done)
  local client = client_for(id)
  if not client then
    vim.notify('claw: no claw-lsp client running', vim.log.levels.ERROR)
    return
  end
  -- The accepted edit may carry needsConfirmation: the user has just confirmed it.
  local accepting = command == 'claw.acceptProposal'
  if accepting then
    state.accepting = state.accepting + 1
  end
  client_mod.exec(client, command, { proposal = id }, function(err, result)
    if accepting then
      state.accepting = state.accepting - 1
    end
    if err then
      vim.notify(('claw: %s %s failed: %s'):format(verb, id, err.message or '?'), vim.log.levels.ERROR)
    else
      state.remove_proposal(id)
      close_diff_views(id)
      chat.note(('◆ %s %s'):format(verb, id))
    end
    pcall(vim.cmd.redrawstatus, { bang = true })
    if on_done then
      on_done(err, result)
    end
  end)
end

---@param id string
---@param on_done fun(err: table?, result: any)?
function M.accept(id, on_done)
  resolve(id, 'claw.acceptProposal', 'accepted', on_done)
end

---@param id string
---@param on_done fun(err: table?, result: any)?
function M.reject(id, on_done)
  resolve(id, 'claw.rejectProposal', 'rejected', on_done)
end

---@param range table?
---@param row integer 0-based
---@return boolean
local function range_contains(range, row)
  return type(range) == 'table' and range.start.line <= row and row <= range['end'].line
end

--- Which proposal a command without an id means: the one under the cursor (conversation,
--- diff view or file), else the only one pending, else the user picks.
---@param callback fun(id: string)
function M.pick(callback)
  local current = vim.api.nvim_get_current_buf()
  if current == chat.buf() then
    local id = chat.proposal_under_cursor()
    if id then
      return callback(id)
    end
  end
  local ok, in_view = pcall(vim.api.nvim_buf_get_var, current, 'claw_proposal')
  if ok and in_view then
    return callback(in_view)
  end
  local pending = state.pending_proposals()
  local uri = vim.uri_from_bufnr(current)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local for_file = vim.tbl_filter(function(item)
    return item.uri == uri
  end, pending)
  for _, item in ipairs(for_file) do
    if range_contains(item.range, row) then
      return callback(item.proposal)
    end
  end
  local candidates = #for_file > 0 and for_file or pending
  if #candidates == 1 then
    return callback(candidates[1].proposal)
  end
  if #candidates == 0 then
    vim.notify('claw: no pending proposals', vim.log.levels.WARN)
    return
  end
  vim.ui.select(candidates, {
    prompt = 'claw proposal',
    kind = 'claw_proposal',
    format_item = function(item)
      return item.proposal .. '  ' .. chat.display_path(item.uri)
    end,
  }, function(item)
    if item then
      callback(item.proposal)
    end
  end)
end

--- Opens a tab: the file on the left, the proposed text on the right, in diff mode. Falls back
--- to the unified diff when it no longer applies to the buffer.
---@param id string
function M.show_diff(id)
  local item = state.proposals[id]
  if not item then
    vim.notify('claw: unknown proposal ' .. id, vim.log.levels.WARN)
    return
  end
  local file_buf = vim.uri_to_bufnr(item.uri)
  vim.fn.bufload(file_buf)
  local original = vim.api.nvim_buf_get_lines(file_buf, 0, -1, false)
  local proposed = M.apply_unified_diff(original, item.diff)
  vim.cmd.tabnew()
  local tab = vim.api.nvim_get_current_tabpage()
  vim.api.nvim_tabpage_set_var(tab, 'claw_proposal', id)
  local scratch = vim.api.nvim_get_current_buf()
  vim.bo[scratch].buftype = 'nofile'
  vim.bo[scratch].bufhidden = 'wipe'
  vim.bo[scratch].swapfile = false
  vim.api.nvim_buf_set_var(scratch, 'claw_proposal', id)
  if proposed then
    vim.api.nvim_buf_set_lines(scratch, 0, -1, false, proposed)
    vim.bo[scratch].filetype = vim.bo[file_buf].filetype
    vim.cmd('diffthis')
    vim.cmd('leftabove vsplit')
    vim.api.nvim_win_set_buf(0, file_buf)
    vim.cmd('diffthis')
    vim.cmd('wincmd l')
  else
    vim.api.nvim_buf_set_lines(scratch, 0, -1, false, vim.split(item.diff, '\n', { plain = true }))
    vim.bo[scratch].filetype = 'diff'
  end
  vim.bo[scratch].modifiable = false
  pcall(vim.api.nvim_buf_set_name, scratch, 'claw://proposal/' .. id)
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = scratch, nowait = true, silent = true, desc = desc })
  end
  map('a', function()
    M.accept(id)
  end, 'Accept this claw proposal')
  map('r', function()
    M.reject(id)
  end, 'Reject this claw proposal')
  map('q', function()
    close_diff_views(id)
  end, 'Close the proposal diff')
end

--- Refreshes the pending list from the server (proposals made before this client saw them).
---@param callback fun()?
function M.refresh(callback)
  client_mod.call('claw.proposals', {}, function(err, result, client)
    if not err and type(result) == 'table' then
      for _, item in ipairs(result) do
        state.add_proposal({
          proposal = item.proposal,
          uri = item.uri,
          diff = item.diff or '',
          range = item.range,
          client_id = client.id,
        })
      end
    end
    if callback then
      callback()
    end
  end)
end

return M
