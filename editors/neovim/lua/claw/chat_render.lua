-- The transcript part of the chat buffer: claw/event rendered as Markdown above the input
-- heading; tool calls, edit diffs and proposal diffs as folded detail blocks; the todo list
-- redrawn in place.
local chat = require('claw.chat')

local M = {}

local MAX_DETAIL_LINES = 40
local ns = vim.api.nvim_create_namespace('claw.chat')
local TODO_MARKS = { pending = '- [ ] ', in_progress = '- [~] ', completed = '- [x] ' }

--- What the last rendered line is part of: streamed assistant text continues it, anything
--- else starts a new line.
---@type 'text'|'other'
local mode = 'other'
---@type table<string, integer>  tool call id -> extmark on its header line
local tool_marks = {}
---@type table<integer, string>  extmark on an edit's header line -> its snapshot key
local edit_marks = {}
---@type { mark: integer, count: integer }?  the todo block of the running turn
local todo_block = nil
local turn_had_text = false
--- The plan waiting for the user's decision (`ga` / :Claw plan accept).
---@type { session: string?, plan: string }?
M.pending_plan = nil

function M.reset()
  mode = 'other'
  tool_marks = {}
  edit_marks = {}
  todo_block = nil
end

---@param fn fun(buf: integer)
local function edit(fn)
  local buf = chat.buf()
  local was = vim.bo[buf].modifiable
  vim.bo[buf].modifiable = true
  local ok, err = pcall(fn, buf)
  vim.bo[buf].modifiable = was
  if not ok then
    error(err)
  end
  chat.scroll_to_end()
end

--- Appends whole lines to the transcript (above the input heading).
---@param lines string[]
---@return integer row  0-based row of the first appended line
function M.append(lines)
  local row = 0
  edit(function(buf)
    row = chat.transcript_end(buf)
    vim.api.nvim_buf_set_lines(buf, row, row, false, lines)
  end)
  mode = 'other'
  return row
end

---@param delta string
local function append_text(delta)
  if delta == '' then
    return
  end
  local pieces = vim.split(delta, '\n', { plain = true })
  if mode ~= 'text' then
    M.append({ '' })
  end
  edit(function(buf)
    local last_row = chat.transcript_end(buf) - 1
    local last = vim.api.nvim_buf_get_lines(buf, last_row, last_row + 1, false)[1] or ''
    pieces[1] = last .. pieces[1]
    vim.api.nvim_buf_set_lines(buf, last_row, last_row + 1, false, pieces)
  end)
  mode = 'text'
  turn_had_text = true
end

---@param text string
---@return string[]
local function detail_lines(text)
  text = text:gsub('\n+$', '')
  local out = {}
  for _, line in ipairs(vim.split(text, '\n', { plain = true })) do
    if #out >= MAX_DETAIL_LINES then
      out[#out + 1] = chat.DETAIL .. '…'
      break
    end
    out[#out + 1] = chat.DETAIL .. line
  end
  return out
end

--- A one-line summary of tool arguments (the path or command the user cares about).
---@param arguments any
---@return string
local function brief(arguments)
  if type(arguments) == 'string' then
    local ok, decoded = pcall(vim.json.decode, arguments)
    arguments = ok and decoded or arguments
  end
  if type(arguments) ~= 'table' then
    return tostring(arguments or '')
  end
  local key = arguments.command or arguments.path or arguments.pattern
  local text = key and tostring(key) or ''
  text = text:gsub('\n', ' ')
  if #text > 80 then
    text = text:sub(1, 77) .. '...'
  end
  return text
end

--- The rows of a block: its header row and the detail lines after it.
---@param buf integer
---@param mark integer
---@return integer row, integer details
local function block_rows(buf, mark)
  local pos = vim.api.nvim_buf_get_extmark_by_id(buf, ns, mark, {})
  local row = pos[1] or (vim.api.nvim_buf_line_count(buf) - 1)
  local all = vim.api.nvim_buf_get_lines(buf, row + 1, -1, false)
  local details = 0
  while all[details + 1] and vim.startswith(all[details + 1], chat.DETAIL) do
    details = details + 1
  end
  return row, details
end

---@param id string
---@param lines string[]
local function add_to_tool_block(id, lines)
  local mark = tool_marks[id]
  if not mark then
    M.append(lines)
    return
  end
  edit(function(buf)
    local row, details = block_rows(buf, mark)
    vim.api.nvim_buf_set_lines(buf, row + 1 + details, row + 1 + details, false, lines)
  end)
  mode = 'other'
end

--- The snapshot key of the edit whose block holds `row`, if any.
---@param row integer 0-based
---@return string?
function M.edit_key_at(row)
  local buf = chat.buf()
  local lines = vim.api.nvim_buf_get_lines(buf, 0, row + 1, false)
  local header = row
  while header > 0 and vim.startswith(lines[header + 1] or '', chat.DETAIL) do
    header = header - 1
  end
  for _, found in ipairs(vim.api.nvim_buf_get_extmarks(buf, ns, { header, 0 }, { header, -1 }, {})) do
    if edit_marks[found[1]] then
      return edit_marks[found[1]]
    end
  end
  return nil
end

---@param params table  an `edit` event
local function render_edit(params)
  local note = params.applied == false and ' (not applied)' or ''
  local row = M.append({ chat.EDIT_HEAD .. 'edited ' .. chat.display_path(params.uri) .. note })
  if params.applied == false then
    return
  end
  local snapshots = require('claw.snapshots')
  local key = snapshots.key(params.session, params.turn, params.uri)
  local mark = vim.api.nvim_buf_set_extmark(chat.buf(), ns, row, 0, {})
  edit_marks[mark] = key
  local diff = snapshots.diff(key)
  if diff and diff ~= '' then
    M.append(detail_lines(diff))
  end
end

---@param todos table[]
local function render_todos(todos)
  local done = 0
  local lines = {}
  for _, todo in ipairs(todos) do
    if type(todo) == 'table' then
      local status = TODO_MARKS[todo.status] and todo.status or 'pending'
      done = done + (status == 'completed' and 1 or 0)
      lines[#lines + 1] = TODO_MARKS[status] .. tostring(todo.content or ''):gsub('\n', ' ')
    end
  end
  table.insert(lines, 1, ('**Todo %d/%d**'):format(done, #lines))
  local block = todo_block
  if block then
    edit(function(buf)
      local pos = vim.api.nvim_buf_get_extmark_by_id(buf, ns, block.mark, {})
      if pos[1] then
        vim.api.nvim_buf_set_lines(buf, pos[1], pos[1] + block.count, false, lines)
        -- Replacing the lines moves the mark past them: pin it back to the list's first line,
        -- or the next redraw would overwrite what follows the list.
        vim.api.nvim_buf_set_extmark(buf, ns, pos[1], 0, { id = block.mark })
        block.count = #lines
      end
    end)
    mode = 'other'
    return
  end
  local row = M.append(lines)
  todo_block = { mark = vim.api.nvim_buf_set_extmark(chat.buf(), ns, row, 0, {}), count = #lines }
end

---@param plan string
---@param session string?
local function render_plan(plan, session)
  M.pending_plan = { session = session, plan = plan }
  local lines = { '', '### Plan' }
  vim.list_extend(lines, vim.split(plan, '\n', { plain = true }))
  vim.list_extend(lines, { '', '(ga accepts the plan · type below to keep planning)' })
  M.append(lines)
end

--- Starts a new exchange in the conversation.
---@param prompt string
---@param context string?  e.g. "demo.py:3-5"
function M.begin_turn(prompt, context)
  local lines = { '', chat.INPUT_HEADING .. (context and (' (' .. context .. ')') or ''), '' }
  vim.list_extend(lines, vim.split(prompt, '\n', { plain = true }))
  vim.list_extend(lines, { '', '## Claw' })
  M.append(lines)
  turn_had_text = false
  todo_block = nil
end

---@param params table  a claw/event notification
function M.on_event(params)
  local kind = params.kind
  local nested = type(params.parent) == 'table'
  if kind == 'text' then
    if nested then
      return add_to_tool_block(params.parent.callId or '', detail_lines(params.delta or ''))
    end
    append_text(params.delta or '')
  elseif kind == 'toolCall' then
    local head = chat.TOOL_HEAD .. (params.name or 'tool') .. ' ' .. brief(params.arguments)
    if nested then
      return add_to_tool_block(params.parent.callId or '', { chat.DETAIL .. head })
    end
    local row = M.append({ head })
    local args = params.arguments
    local shown = type(args) == 'string' and args or vim.json.encode(args or vim.empty_dict())
    M.append(detail_lines(shown))
    if params.id then
      tool_marks[params.id] = vim.api.nvim_buf_set_extmark(chat.buf(), ns, row, 0, {})
    end
  elseif kind == 'toolResult' then
    local mark = params.ok == false and '✗ ' or '✓ '
    local id = nested and (params.parent.callId or '') or (params.id or '')
    add_to_tool_block(id, detail_lines(mark .. tostring(params.summary or '')))
  elseif kind == 'edit' then
    render_edit(params)
  elseif kind == 'proposal' then
    M.append({
      ('◆ proposal %s: %s   (ga accept · gr reject · gd diff)'):format(
        params.proposal or '?',
        chat.display_path(params.uri)
      ),
    })
    M.append(detail_lines(params.diff or ''))
  elseif kind == 'approval' then
    M.append({ ('⚠ %s: %s'):format(params.tool or 'tool', params.decision or '?') })
  elseif kind == 'unsaved' then
    local names = vim.tbl_map(chat.display_path, params.uris or {})
    M.append({ '… unsaved buffers: ' .. table.concat(names, ', ') .. ' (:wall to save)' })
  elseif kind == 'attachment' then
    M.append({ ('📎 attached %s %s (%s chars)'):format(params.type or 'file', params.name or '?', params.chars or '?') })
  elseif kind == 'notice' and params.message then
    M.append({ '… ' .. tostring(params.message) })
  elseif kind == 'todo' and not nested then
    render_todos(type(params.todos) == 'table' and params.todos or {})
  elseif kind == 'plan' and type(params.plan) == 'string' then
    render_plan(params.plan, params.session)
  elseif kind == 'done' and not nested then
    M.append({ '', ('— %s   (gu undoes the turn)'):format(params.stopReason or 'done') })
  elseif kind == 'error' then
    M.append({ '✖ error: ' .. tostring(params.message or '?') .. '  (:Claw doctor checks the backend)' })
  end
end

--- Called with the claw.ask response; the stream already showed most of it.
---@param err table?
---@param result table?
function M.finish(err, result)
  if err then
    M.append({ '✖ ' .. tostring(err.message or 'request failed') })
  elseif type(result) == 'table' then
    if type(result.plan) == 'string' and not (M.pending_plan and M.pending_plan.plan == result.plan) then
      render_plan(result.plan, result.session)
    elseif not turn_had_text and type(result.text) == 'string' and result.text ~= '' then
      append_text(result.text)
    end
  end
end

---@param text string
function M.note(text)
  M.append({ text })
end

--- Empties the transcript (new session); the draft stays.
function M.clear()
  edit(function(buf)
    vim.api.nvim_buf_set_lines(buf, 0, chat.transcript_end(buf), false, {})
    vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  end)
  M.reset()
  M.pending_plan = nil
end

return M
