-- The conversation buffer: streams claw/event as Markdown, tool calls folded.
local config = require('claw.config')

local M = {}

M.BUF_NAME = 'claw://conversation'
local DETAIL = '  │ '
local TOOL_HEAD = '▸ '
local PROPOSAL_PATTERN = '^◆ proposal (%S+):'
local MAX_DETAIL_LINES = 40
local ns = vim.api.nvim_create_namespace('claw.chat')

---@type integer?
local bufnr = nil
--- What the last rendered line is part of: streamed assistant text continues it, anything else
--- starts a new line.
---@type 'text'|'other'
local mode = 'other'
---@type table<string, integer>  tool call id -> extmark on its header line
local tool_marks = {}
local turn_had_text = false

---@return integer
function M.buf()
  if bufnr and vim.api.nvim_buf_is_valid(bufnr) then
    return bufnr
  end
  bufnr = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(bufnr, M.BUF_NAME)
  local bo = vim.bo[bufnr]
  bo.buftype = 'nofile' -- before filetype, so LSP auto-attach skips this buffer
  bo.bufhidden = 'hide'
  bo.swapfile = false
  bo.undolevels = -1
  bo.filetype = 'markdown'
  bo.modifiable = false
  M.set_keymaps(bufnr)
  mode = 'other'
  tool_marks = {}
  return bufnr
end

---@param buf integer
function M.set_keymaps(buf)
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, silent = true, desc = desc })
  end
  map('q', M.close, 'Close the claw conversation')
  map('<C-c>', function()
    require('claw.actions').cancel()
  end, 'Cancel the running claw turn')
  map('a', function()
    M.with_proposal_under_cursor(require('claw.proposals').accept)
  end, 'Accept the proposal under the cursor')
  map('r', function()
    M.with_proposal_under_cursor(require('claw.proposals').reject)
  end, 'Reject the proposal under the cursor')
  map('d', function()
    M.with_proposal_under_cursor(require('claw.proposals').show_diff)
  end, 'Show the proposal under the cursor as a diff')
end

--- The proposal id on or above the cursor line (inside its folded diff).
---@return string?
function M.proposal_under_cursor()
  local buf = M.buf()
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local lines = vim.api.nvim_buf_get_lines(buf, 0, row, false)
  for index = #lines, 1, -1 do
    local line = lines[index]
    local id = line:match(PROPOSAL_PATTERN)
    if id then
      return id
    end
    if not vim.startswith(line, DETAIL) then
      return nil
    end
  end
  return nil
end

---@param fn fun(id: string)
function M.with_proposal_under_cursor(fn)
  local id = M.proposal_under_cursor()
  if id then
    fn(id)
  else
    vim.notify('claw: no proposal under the cursor', vim.log.levels.WARN)
  end
end

--- Fold tool calls and proposal diffs: header lines open a fold, detail lines continue it.
---@return string
function M.foldexpr()
  local line = vim.fn.getline(vim.v.lnum)
  if vim.startswith(line, DETAIL) then
    return '1'
  end
  if vim.startswith(line, TOOL_HEAD) or line:match(PROPOSAL_PATTERN) then
    return '>1'
  end
  return '0'
end

---@return integer?
local function visible_window()
  local wins = vim.fn.win_findbuf(M.buf())
  return wins[1]
end

---@param win integer
local function set_window_options(win)
  local wo = vim.wo[win][0]
  wo.wrap = true
  wo.linebreak = true
  wo.number = false
  wo.relativenumber = false
  wo.signcolumn = 'no'
  wo.foldmethod = 'expr'
  wo.foldexpr = "v:lua.require'claw.chat'.foldexpr()"
  wo.foldtext = ''
  wo.foldlevel = 0
  wo.foldenable = true
end

---@param size number
---@param total integer
---@return integer
local function resolve_size(size, total)
  if size < 1 then
    return math.max(5, math.floor(total * size))
  end
  return math.floor(size)
end

--- Shows the conversation. Keeps the cursor where it was unless `focus` (config chat.focus).
---@param opts { focus: boolean? }?
---@return integer win
function M.open(opts)
  opts = opts or {}
  local chat_cfg = config.get().chat
  local focus = opts.focus
  if focus == nil then
    focus = chat_cfg.focus
  end
  local buf = M.buf()
  local win = visible_window()
  if not win then
    local previous = vim.api.nvim_get_current_win()
    if chat_cfg.layout == 'float' then
      local width = resolve_size(chat_cfg.size < 1 and 0.8 or chat_cfg.size, vim.o.columns)
      local height = math.floor(vim.o.lines * 0.8)
      win = vim.api.nvim_open_win(buf, focus, {
        relative = 'editor',
        width = width,
        height = height,
        row = math.floor((vim.o.lines - height) / 2),
        col = math.floor((vim.o.columns - width) / 2),
        border = 'rounded',
        title = ' claw ',
      })
    else
      local vertical = chat_cfg.layout == 'vsplit'
      local total = vertical and vim.o.columns or vim.o.lines
      win = vim.api.nvim_open_win(buf, focus, {
        split = vertical and 'right' or 'below',
        win = -1,
        [vertical and 'width' or 'height'] = resolve_size(chat_cfg.size, total),
      })
      if not focus then
        vim.api.nvim_set_current_win(previous)
      end
    end
    set_window_options(win)
  end
  if focus then
    vim.api.nvim_set_current_win(win)
  end
  M.scroll_to_end()
  return win
end

function M.close()
  for _, win in ipairs(vim.fn.win_findbuf(M.buf())) do
    if #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(win, false)
    end
  end
end

function M.toggle()
  if visible_window() then
    M.close()
  else
    M.open({ focus = true })
  end
end

function M.scroll_to_end()
  local buf = M.buf()
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if win ~= vim.api.nvim_get_current_win() then
      vim.api.nvim_win_set_cursor(win, { last, 0 })
    end
  end
end

---@param fn fun(buf: integer)
local function edit(fn)
  local buf = M.buf()
  vim.bo[buf].modifiable = true
  local ok, err = pcall(fn, buf)
  vim.bo[buf].modifiable = false
  if not ok then
    error(err)
  end
  M.scroll_to_end()
end

--- Appends whole lines; the first replaces the initial empty line of a fresh buffer.
---@param lines string[]
function M.append(lines)
  edit(function(buf)
    local count = vim.api.nvim_buf_line_count(buf)
    local first = vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1]
    if count == 1 and first == '' then
      vim.api.nvim_buf_set_lines(buf, 0, 1, false, lines)
    else
      vim.api.nvim_buf_set_lines(buf, count, count, false, lines)
    end
  end)
  mode = 'other'
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
    local count = vim.api.nvim_buf_line_count(buf)
    local last = vim.api.nvim_buf_get_lines(buf, count - 1, count, false)[1] or ''
    pieces[1] = last .. pieces[1]
    vim.api.nvim_buf_set_lines(buf, count - 1, count, false, pieces)
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
      out[#out + 1] = DETAIL .. '…'
      break
    end
    out[#out + 1] = DETAIL .. line
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

---@param uri string?
---@return string
function M.display_path(uri)
  if not uri or uri == '' then
    return '?'
  end
  local ok, path = pcall(vim.uri_to_fname, uri)
  if not ok then
    return uri
  end
  return vim.fn.fnamemodify(path, ':~:.')
end

---@param id string
---@param lines string[]
local function add_to_tool_block(id, lines)
  local buf = M.buf()
  local mark = tool_marks[id]
  if not mark then
    M.append(lines)
    return
  end
  local pos = vim.api.nvim_buf_get_extmark_by_id(buf, ns, mark, {})
  local row = (pos[1] or vim.api.nvim_buf_line_count(buf) - 1) + 1
  local all = vim.api.nvim_buf_get_lines(buf, row, -1, false)
  local offset = 0
  while all[offset + 1] and vim.startswith(all[offset + 1], DETAIL) do
    offset = offset + 1
  end
  edit(function(b)
    vim.api.nvim_buf_set_lines(b, row + offset, row + offset, false, lines)
  end)
  mode = 'other'
end

--- Starts a new exchange in the conversation.
---@param prompt string
---@param context string?  e.g. "demo.py:3-5"
function M.begin_turn(prompt, context)
  local lines = { '', '## You' .. (context and (' (' .. context .. ')') or ''), '' }
  vim.list_extend(lines, vim.split(prompt, '\n', { plain = true }))
  vim.list_extend(lines, { '', '## Claw' })
  M.append(lines)
  turn_had_text = false
end

---@param params table  a claw/event notification
function M.on_event(params)
  local kind = params.kind
  if kind == 'text' then
    append_text(params.delta or '')
  elseif kind == 'toolCall' then
    local buf = M.buf()
    M.append({ TOOL_HEAD .. (params.name or 'tool') .. ' ' .. brief(params.arguments) })
    local row = vim.api.nvim_buf_line_count(buf) - 1
    local args = params.arguments
    local shown = type(args) == 'string' and args or vim.json.encode(args or vim.empty_dict())
    M.append(detail_lines(shown))
    if params.id then
      tool_marks[params.id] = vim.api.nvim_buf_set_extmark(buf, ns, row, 0, {})
    end
  elseif kind == 'toolResult' then
    local mark = params.ok == false and '✗ ' or '✓ '
    add_to_tool_block(params.id or '', detail_lines(mark .. tostring(params.summary or '')))
  elseif kind == 'edit' then
    local note = params.applied == false and ' (not applied)' or ''
    M.append({ '✎ edited ' .. M.display_path(params.uri) .. note })
  elseif kind == 'proposal' then
    M.append({
      ('◆ proposal %s: %s   (a accept · r reject · d diff)'):format(
        params.proposal or '?',
        M.display_path(params.uri)
      ),
    })
    M.append(detail_lines(params.diff or ''))
  elseif kind == 'approval' then
    M.append({ ('⚠ %s: %s'):format(params.tool or 'tool', params.decision or '?') })
  elseif kind == 'unsaved' then
    local names = vim.tbl_map(M.display_path, params.uris or {})
    M.append({ '… unsaved buffers: ' .. table.concat(names, ', ') .. ' (:wall to save)' })
  elseif kind == 'done' then
    M.append({ '', ('— %s'):format(params.stopReason or 'done') })
  elseif kind == 'error' then
    M.append({ '✖ error: ' .. tostring(params.message or '?') })
  end
end

--- Called with the claw.ask response; the stream already showed most of it.
---@param err table?
---@param result table?
function M.finish(err, result)
  if err then
    M.append({ '✖ ' .. tostring(err.message or 'request failed') })
  elseif type(result) == 'table' and not turn_had_text and type(result.text) == 'string' then
    if result.text ~= '' then
      append_text(result.text)
    end
  end
end

---@param text string
function M.note(text)
  M.append({ text })
end

--- Empties the conversation (new session).
function M.clear()
  edit(function(buf)
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
    vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  end)
  tool_marks = {}
  mode = 'other'
end

return M
