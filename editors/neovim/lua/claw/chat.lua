-- The conversation as a chat buffer (the CodeCompanion convention): the transcript streams in
-- as Markdown, and the user types under the last `## You` heading at the bottom; <CR> (normal)
-- or <C-s> (insert) sends, `q` closes, <C-c> cancels. Rendering lives in chat_render.lua,
-- completion in completion.lua.
local config = require('claw.config')

local M = {}

M.BUF_NAME = 'claw://conversation'
M.INPUT_HEADING = '## You'
M.DETAIL = '  │ '
M.TOOL_HEAD = '▸ '
M.EDIT_HEAD = '✎ '
M.PROPOSAL_PATTERN = '^◆ proposal (%S+):'
M.EDIT_PATTERN = '^✎ edited (.-)%s*$'

---@type integer?
local bufnr = nil

local function render()
  return require('claw.chat_render')
end

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
  -- Streamed text would flood the undo tree; the draft is short enough to retype.
  bo.undolevels = -1
  bo.filetype = 'markdown'
  bo.omnifunc = "v:lua.require'claw.completion'.omnifunc"
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, { '', M.INPUT_HEADING, '' })
  M.set_keymaps(bufnr)
  render().reset()
  pcall(require('claw.completion').attach_sources, bufnr)
  return bufnr
end

--- Row (0-based) of the input heading, re-created at the bottom if the user deleted it.
---@param buf integer
---@return integer
function M.input_heading_row(buf)
  local count = vim.api.nvim_buf_line_count(buf)
  local tail = vim.api.nvim_buf_get_lines(buf, math.max(0, count - 200), count, false)
  for index = #tail, 1, -1 do
    if tail[index] == M.INPUT_HEADING then
      return count - #tail + index - 1
    end
  end
  vim.api.nvim_buf_set_lines(buf, count, count, false, { '', M.INPUT_HEADING, '' })
  return count + 1
end

--- Where the transcript ends (0-based, exclusive): before the blank line above the heading.
---@param buf integer
---@return integer
function M.transcript_end(buf)
  local heading = M.input_heading_row(buf)
  local above = heading > 0 and vim.api.nvim_buf_get_lines(buf, heading - 1, heading, false)[1]
  return above == '' and heading - 1 or heading
end

--- The draft under the input heading.
---@return string
function M.draft()
  local buf = M.buf()
  local heading = M.input_heading_row(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, heading + 1, -1, false)
  return vim.trim(table.concat(lines, '\n'))
end

---@param text string?
function M.set_draft(text)
  local buf = M.buf()
  local heading = M.input_heading_row(buf)
  local lines = text and vim.split(text, '\n', { plain = true }) or { '' }
  vim.api.nvim_buf_set_lines(buf, heading + 1, -1, false, lines)
end

--- Sends the draft as the next prompt (<CR> / <C-s>).
function M.send()
  local prompt = M.draft()
  if prompt == '' then
    vim.notify('claw: type your message under the last "' .. M.INPUT_HEADING .. '" heading', vim.log.levels.WARN)
    return
  end
  M.set_draft(nil)
  if vim.api.nvim_get_mode().mode:sub(1, 1) == 'i' then
    vim.cmd.stopinsert()
  end
  require('claw.actions').ask({ prompt = prompt })
  M.focus_input()
end

--- Moves the cursor to the end of the draft, when the chat window is the current one.
function M.focus_input()
  local buf = M.buf()
  if vim.api.nvim_get_current_buf() == buf then
    local last = vim.api.nvim_buf_line_count(buf)
    vim.api.nvim_win_set_cursor(0, { last, #(vim.api.nvim_buf_get_lines(buf, last - 1, last, false)[1] or '') })
  end
end

---@param buf integer
function M.set_keymaps(buf)
  local keys = config.get().chat.keymaps or {}
  local function map(modes, lhs, fn, desc)
    if lhs and lhs ~= '' and lhs ~= false then
      vim.keymap.set(modes, lhs, fn, { buffer = buf, nowait = true, silent = true, desc = desc })
    end
  end
  local send = keys.send or {}
  map('n', send.n, M.send, 'Send the claw draft')
  map('i', send.i, M.send, 'Send the claw draft')
  map('n', keys.close, M.close, 'Close the claw conversation')
  map('n', keys.cancel, function()
    require('claw.actions').cancel()
  end, 'Cancel the running claw turn')
  map('n', keys.accept, function()
    if M.proposal_under_cursor() or not require('claw.chat_render').pending_plan then
      M.with_proposal_under_cursor(require('claw.proposals').accept)
    else
      require('claw.pickers').accept_plan()
    end
  end, 'Accept the proposal under the cursor, or the plan')
  map('n', keys.reject, function()
    M.with_proposal_under_cursor(require('claw.proposals').reject)
  end, 'Reject the proposal under the cursor')
  map('n', keys.diff, M.diff_under_cursor, 'Open the diff of the edit or proposal under the cursor')
  map('n', keys.undo, function()
    require('claw.actions').undo()
  end, 'Undo the last claw turn')
end

--- The header line (proposal or edit) on or above the cursor, inside its folded block.
---@return string? line
local function block_header()
  local buf = M.buf()
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local lines = vim.api.nvim_buf_get_lines(buf, 0, row, false)
  for index = #lines, 1, -1 do
    local line = lines[index]
    if not vim.startswith(line, M.DETAIL) then
      return line
    end
  end
  return nil
end

--- The proposal id on or above the cursor line (inside its folded diff).
---@return string?
function M.proposal_under_cursor()
  local header = block_header()
  return header and header:match(M.PROPOSAL_PATTERN) or nil
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

--- gd: a proposal's diff, or an applied edit's file against what it was before the turn.
function M.diff_under_cursor()
  local header = block_header() or ''
  local id = header:match(M.PROPOSAL_PATTERN)
  if id then
    return require('claw.proposals').show_diff(id)
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local key = render().edit_key_at(row)
  if key and require('claw.snapshots').open_diff(key) then
    return
  end
  vim.notify('claw: no edit or proposal under the cursor', vim.log.levels.WARN)
end

--- Fold tool calls, edit diffs and proposal diffs: header lines open a fold, detail lines continue it.
---@return string
function M.foldexpr()
  local line = vim.fn.getline(vim.v.lnum)
  if vim.startswith(line, M.DETAIL) then
    return '1'
  end
  if vim.startswith(line, M.TOOL_HEAD) or vim.startswith(line, M.EDIT_HEAD) or line:match(M.PROPOSAL_PATTERN) then
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
  -- Markdown highlighting through treesitter when the parser is installed.
  pcall(vim.treesitter.start, M.buf(), 'markdown')
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
    M.focus_input()
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

--- Follows the stream in chat windows the user is not typing in.
function M.scroll_to_end()
  local buf = M.buf()
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if win ~= vim.api.nvim_get_current_win() then
      vim.api.nvim_win_set_cursor(win, { last, 0 })
    end
  end
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

-- The transcript operations, kept on this module for callers (actions, handlers, proposals).
for _, name in ipairs({ 'append', 'begin_turn', 'on_event', 'finish', 'note', 'clear' }) do
  M[name] = function(...)
    return render()[name](...)
  end
end

return M
