-- The chat buffer (issue 20): typing under `## You`, <CR> / <C-s> send, `@` and `/` completion
-- through the omnifunc, edit diff blocks folded, gd / gu / ga keymaps, the todo list in place,
-- a plan, :Claw tier / :Claw model / :Claw mode pickers and the statusline component.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write' })

local chat = require('claw.chat')
-- The popup also for a single match, so <C-y> accepts (without it <C-y> copies the line above).
vim.o.completeopt = 'menuone'

local function keys(text)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(text, true, false, true), 'xt', false)
end

--- Focuses the chat window with the cursor at the end of the draft.
local function focus_chat()
  chat.set_draft(nil) -- a failed case leaves no draft behind for the next
  chat.open({ focus = true })
  T.eq(chat.buf(), vim.api.nvim_get_current_buf())
end

--- Waits for the next claw.ask response after `before`.
local function wait_ask(before)
  T.wait(function()
    return #H.events.ask_done > before
  end, 'the claw.ask response')
  return H.events.ask_done[#H.events.ask_done]
end

---@param pattern string
---@return integer? row 1-based
local function chat_row(pattern)
  local lines = H.lines(chat.buf())
  for index = #lines, 1, -1 do
    if lines[index]:find(pattern, 1, true) then
      return index
    end
  end
  return nil
end

local function last_user_message()
  local requests = H.model_requests()
  local messages = requests[#requests].messages
  for index = #messages, 1, -1 do
    if messages[index].role == 'user' then
      return messages[index].content
    end
  end
  return ''
end

T.test('a fresh chat buffer ends with the ## You heading to type under', function()
  H.open('demo.py')
  local lines = H.lines(chat.buf())
  T.eq('## You', lines[#lines - 1])
  T.eq('', lines[#lines])
  T.eq("v:lua.require'claw.completion'.omnifunc", vim.bo[chat.buf()].omnifunc)
end)

T.test('@ completes workspace files through the omnifunc and <CR> sends the draft', function()
  H.open('demo.py')
  focus_chat()
  keys('GAWhat does @dem')
  local completion = require('claw.completion')
  local start = completion.omnifunc(1, '')
  T.eq(#'What does ', start, 'the completion starts at the @')
  local items = completion.omnifunc(0, '@dem')
  T.eq('@demo.py', items[1] and items[1].word, 'demo.py is the best match')
  -- The same through Neovim's own insert-mode completion: <C-x><C-o> then accept.
  keys('<Esc>A<C-x><C-o><C-y> set?<Esc>')
  T.eq('What does @demo.py set?', chat.draft())
  H.script({ { text = 'It sets x to 1.' } })
  local before = #H.events.ask_done
  keys('<CR>')
  local done = wait_ask(before)
  T.eq('done', done.result.stopReason)
  T.eq('', chat.draft(), 'the draft is cleared once sent')
  local text = H.chat_text()
  T.contains(text, 'What does @demo.py set?')
  T.contains(text, 'attached file demo.py')
  T.contains(text, 'It sets x to 1.')
  local user = last_user_message()
  T.contains(user, '<attachment kind="file" name="demo.py"')
  T.contains(user, 'x = 1')
  local lines = H.lines(chat.buf())
  T.eq('## You', lines[#lines - 1], 'a new heading waits for the next message')
  vim.cmd('wincmd p')
end)

T.test('/ completes commands at the start of the draft and <C-s> sends from insert mode', function()
  H.open('demo.py')
  focus_chat()
  local completion = require('claw.completion')
  T.eq(nil, completion.token_at('see /tmp', 8, true), 'a slash later in the text is not a command')
  T.eq(nil, completion.token_at('/he', 3, false), 'only the first draft line holds a command')
  keys('GA/hel')
  T.eq(0, completion.omnifunc(1, ''))
  local words = vim.tbl_map(function(item)
    return item.word
  end, completion.omnifunc(0, '/hel'))
  T.ok(vim.tbl_contains(words, '/help'), '/help offered: ' .. vim.inspect(words))
  -- (feedkeys with 'x' ends insert mode after each call, like :normal)
  keys('A<C-x><C-o><C-y>')
  T.eq('/help', chat.draft())
  local before = #H.events.ask_done
  keys('A<C-s>')
  local done = wait_ask(before)
  T.eq('local', done.result.stopReason)
  T.eq('n', vim.api.nvim_get_mode().mode, 'sending leaves insert mode')
  vim.cmd('wincmd p')
end)

T.test('an edit is a folded diff block; gd opens its diff and gu undoes the turn', function()
  local buf = H.open('demo.py')
  H.script({
    { tool_calls = { { name = 'read_file', arguments = { path = 'demo.py' } } } },
    { tool_calls = { { name = 'edit_file', arguments = { path = 'demo.py', old_text = 'x = 1', new_text = 'x = 2' } } } },
    { text = 'Changed it.' },
  })
  focus_chat()
  local before = #H.events.ask_done
  keys('GAset x to 2<Esc><CR>')
  T.eq('done', wait_ask(before).result.stopReason)
  T.eq({ 'x = 2' }, H.lines(buf))
  local row = assert(chat_row('✎ edited demo.py'), 'edit header in the chat')
  local lines = H.lines(chat.buf())
  T.eq('  │ -x = 1', lines[row + 2])
  T.eq('  │ +x = 2', lines[row + 3])
  local win = vim.fn.win_findbuf(chat.buf())[1]
  vim.api.nvim_win_call(win, function()
    T.ok(vim.fn.foldlevel(row) == 1 and vim.fn.foldclosed(row) == row, 'the diff block is folded')
    T.ok(vim.fn.foldclosed(assert(chat_row('▸ read_file'))) ~= -1, 'tool calls are folded')
  end)
  vim.api.nvim_win_set_cursor(win, { row + 1, 0 })
  keys('gd')
  T.eq(2, #vim.api.nvim_list_tabpages(), 'gd opened the diff in a tab')
  T.eq({ 'x = 1' }, H.lines(vim.api.nvim_get_current_buf()), 'the text before the turn')
  T.ok(vim.wo.diff, 'diff mode')
  keys('q')
  T.eq(1, #vim.api.nvim_list_tabpages(), 'q closes the diff tab')
  vim.api.nvim_set_current_win(win)
  keys('gu')
  T.wait(function()
    return H.lines(buf)[1] == 'x = 1'
  end, 'gu to undo the turn')
  vim.cmd('wincmd p')
end)

T.test('ga accepts the proposal under the cursor', function()
  local buf, client = H.open('demo.py')
  H.script({
    { tool_calls = { { name = 'read_file', arguments = { path = 'demo.py' } } } },
    { tool_calls = { { name = 'edit_file', arguments = { path = 'demo.py', old_text = 'x = 1', new_text = 'x = 3' } } } },
    { text = 'Proposed.' },
  })
  local before = #H.events.ask_done
  require('claw.actions').send_ask(client, buf, { prompt = 'propose x = 3', uri = vim.uri_from_bufnr(buf), editMode = 'propose' })
  wait_ask(before)
  T.eq({ 'x = 1' }, H.lines(buf), 'not applied before acceptance')
  focus_chat()
  vim.api.nvim_win_set_cursor(0, { assert(chat_row('◆ proposal')), 0 })
  keys('ga')
  T.wait(function()
    return H.lines(buf)[1] == 'x = 3'
  end, 'ga to apply the proposal')
  vim.cmd('wincmd p')
end)

T.test('the todo list is redrawn in place; a plan waits for ga', function()
  H.open('demo.py')
  chat.on_event({ session = 's', turn = 9, kind = 'todo', todos = { { id = '1', content = 'Read', status = 'in_progress' } } })
  chat.on_event({
    session = 's',
    turn = 9,
    kind = 'todo',
    todos = { { id = '1', content = 'Read', status = 'completed' }, { id = '2', content = 'Fix', status = 'pending' } },
  })
  local text = H.chat_text()
  T.contains(text, '**Todo 1/2**\n- [x] Read\n- [ ] Fix')
  T.eq(nil, text:find('Todo 0/1', 1, true), 'the earlier list was replaced, not appended')
  chat.on_event({ session = 's', turn = 9, kind = 'plan', plan = '1. Read\n2. Fix' })
  T.contains(H.chat_text(), '### Plan\n1. Read\n2. Fix')
  T.eq('1. Read\n2. Fix', require('claw.chat_render').pending_plan.plan)
  local lines = H.lines(chat.buf())
  T.eq('## You', lines[#lines - 1], 'the transcript grows above the input heading')
end)

T.test("a subagent's events fold into its call and leave the user's session current", function()
  local _, client = H.open('demo.py')
  local handlers = require('claw.handlers')
  local cs = require('claw.state').client(client.id)
  local ctx = { client_id = client.id }
  handlers.event(nil, { session = 'user', turn = 4, kind = 'toolCall', id = 'c1', name = 'task', arguments = {} }, ctx)
  local parent = { session = 'user', turn = 4, callId = 'c1' }
  handlers.event(nil, { session = 'sub', turn = 1, kind = 'toolCall', id = 'k', name = 'grep', arguments = { pattern = 'x' }, parent = parent }, ctx)
  handlers.event(nil, { session = 'sub', turn = 1, kind = 'done', stopReason = 'done', parent = parent }, ctx)
  T.eq('user', cs.session)
  T.eq(4, cs.turn)
  T.ok(cs.busy, 'the subagent finishing does not end the turn')
  local row = assert(chat_row('▸ task'))
  T.eq('  │ ▸ grep x', H.lines(chat.buf())[row + 2], 'nested under the task call')
  handlers.event(nil, { session = 'user', turn = 4, kind = 'done', stopReason = 'done' }, ctx)
  T.ok(not cs.busy)
end)

T.test(':Claw tier and :Claw mode pick through vim.ui.select; the statusline follows', function()
  H.open('demo.py')
  local asked = H.stub_select(function(items)
    return items[1]
  end)
  vim.cmd('Claw tier')
  T.eq('claw tier', asked[1].prompt)
  T.wait(function()
    return require('claw').status():find('claw:read-only', 1, true)
  end, 'the statusline to show read-only')
  vim.cmd('Claw tier write')
  T.wait(function()
    return require('claw').status():find('claw:write', 1, true)
  end, 'the statusline to show write')
  H.stub_select(function()
    return 'plan'
  end)
  vim.cmd('Claw mode')
  T.contains(require('claw').status(), 'plan')
  vim.cmd('Claw mode ask')
  T.eq(nil, require('claw').status():find('plan', 1, true))
end)

T.test(':Claw model lists the backend models and switches with /model', function()
  H.open('demo.py')
  local asked = H.stub_select(function(items)
    return items[1]
  end)
  local before = #H.events.ask_done
  vim.cmd('Claw model')
  local done = wait_ask(before)
  T.eq('local', done.result.stopReason)
  T.eq('claw model', asked[#asked].prompt)
  T.ok(vim.tbl_contains(asked[#asked].items, 'scripted'), 'the backend lists the scripted model')
  T.contains(H.chat_text(), '/model scripted')
end)

T.test(':Claw commands picks a slash command into the draft', function()
  H.open('demo.py')
  local asked = H.stub_select(function(items)
    for _, item in ipairs(items) do
      if item.name == 'compact' then
        return item
      end
    end
  end)
  vim.cmd('Claw commands')
  T.wait(function()
    return chat.draft() == '/compact'
  end, 'the picked command in the draft')
  T.eq('claw_command', asked[1].kind)
  local labels = vim.tbl_map(function(item)
    return item.name
  end, asked[1].items)
  T.ok(vim.tbl_contains(labels, 'help') and vim.tbl_contains(labels, 'model'), vim.inspect(labels))
  T.eq(chat.buf(), vim.api.nvim_get_current_buf(), 'the chat has the cursor')
  vim.cmd.stopinsert()
  chat.set_draft(nil)
  vim.cmd('wincmd p')
end)

T.on_finish(function()
  T.log('--- conversation ---\n' .. H.chat_text())
end)
T.run()
