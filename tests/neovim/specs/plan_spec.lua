-- Plan mode, the todo list and a subagent in the chat buffer against the real server (issues
-- 18 and 20): :Claw mode plan, a prompt sent from the chat buffer, the plan under ### Plan, the
-- todo list redrawn in place, the subagent nested under its task call, `ga` and :Claw plan
-- accept starting the turn that carries the plan, :Claw todos in the quickfix list.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write' })

local chat = require('claw.chat')
local WRITE_TOOLS = { 'edit_file', 'write_file' }
local PLAN = '1. Read demo.py\n2. Set x to 7'
local CHILD_ANSWER = 'CHILD-ANSWER: x is set only in demo.py, line 1.'

local function keys(text)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(text, true, false, true), 'xt', false)
end

local function wait_ask(before)
  T.wait(function()
    return #H.events.ask_done > before
  end, 'the turn response')
  return H.events.ask_done[#H.events.ask_done]
end

local function todo_call(first, second)
  return { tool_calls = { { name = 'todo_write', arguments = { todos = {
    { id = '1', content = 'Read demo.py', status = first },
    { id = '2', content = 'Set x to 7', status = second },
  } } } } }
end

local function plan_call(plan)
  return { tool_calls = { { name = 'exit_plan_mode', arguments = { plan = plan } } } }
end

---@return table<string, boolean>
local function tool_names(request)
  local names = {}
  for _, tool in ipairs(request.tools or {}) do
    names[tool['function'].name] = true
  end
  return names
end

local function last_user(request)
  for index = #request.messages, 1, -1 do
    if request.messages[index].role == 'user' then
      return request.messages[index].content
    end
  end
  return ''
end

--- Types a prompt under the last ## You heading and sends it with <CR>; returns the response.
local function send_from_chat(prompt)
  chat.set_draft(nil)
  chat.open({ focus = true })
  local before = #H.events.ask_done
  keys('GA' .. prompt .. '<Esc><CR>')
  return wait_ask(before)
end

local function quickfix_texts()
  vim.fn.setqflist({}, 'f') -- an earlier list must not pass for this one
  vim.cmd('Claw todos')
  T.wait(function()
    return vim.fn.getqflist({ title = 0 }).title == 'claw todos' and #vim.fn.getqflist() > 0
  end, 'the todo quickfix list')
  local texts = vim.tbl_map(function(item) return item.text end, vim.fn.getqflist())
  vim.cmd('cclose')
  return texts
end

T.test('a plan from the chat buffer in plan mode; ga accepts it and the todos tick through', function()
  H.open('demo.py')
  vim.cmd('Claw mode plan')
  T.contains(require('claw').status(), 'plan')
  H.script({
    todo_call('in_progress', 'pending'),
    { tool_calls = { { name = 'task', arguments = {
      description = 'Find where x is set', prompt = 'Find every assignment to x.', agent = 'explore',
    } } } },
    { text = CHILD_ANSWER },
    plan_call(PLAN),
  })
  local done = send_from_chat('Plan how to set x to 7')
  T.eq(nil, done.err)
  T.eq('plan', done.result.stopReason)
  T.eq(PLAN, done.result.plan)
  local requests = H.model_requests()
  T.eq(4, #requests, 'three parent requests and the child')
  local tools = tool_names(requests[1])
  T.ok(tools.exit_plan_mode and tools.todo_write and tools.task, vim.inspect(tools))
  for _, name in ipairs(WRITE_TOOLS) do
    T.eq(nil, tools[name], name .. ' is not offered in plan mode')
  end
  T.contains(requests[3].messages[#requests[3].messages].content, 'Find every assignment to x.')

  local text = H.chat_text()
  T.contains(text, '### Plan\n1. Read demo.py\n2. Set x to 7')
  T.contains(text, '**Todo 0/2**\n- [~] Read demo.py\n- [ ] Set x to 7')
  -- The subagent's reply sits inside the task call's (folded) block.
  local task_row = text:find('▸ task', 1, true)
  local child_row = text:find(CHILD_ANSWER, 1, true)
  local plan_row = text:find('### Plan', 1, true)
  T.ok(task_row and child_row and task_row < child_row and child_row < plan_row, 'the child answer under the task call')
  T.contains(text, '  │ ' .. CHILD_ANSWER)
  T.eq({ '[>] 1. Read demo.py', '[ ] 2. Set x to 7' }, quickfix_texts())

  -- ga in the chat buffer accepts the plan: the next turn runs at the folder's tier.
  H.script({ todo_call('completed', 'in_progress'), todo_call('completed', 'completed'), { text = 'Both steps are done.' } })
  chat.open({ focus = true })
  local before = #H.events.ask_done
  keys('Gga')
  local accepted = wait_ask(before)
  T.eq(nil, accepted.err)
  T.eq('done', accepted.result.stopReason)
  T.eq(done.result.session, accepted.result.session, 'the same session goes on')
  T.eq('ask', require('claw.state').mode, 'accepting leaves plan mode')
  requests = H.model_requests()
  T.eq(7, #requests)
  local instruction = last_user(requests[5])
  T.contains(instruction, 'The user accepted this plan')
  T.contains(instruction, PLAN)
  tools = tool_names(requests[5])
  T.ok(tools.edit_file and tools.write_file and not tools.exit_plan_mode, vim.inspect(tools))
  T.contains(last_user(requests[6]), '[x] 1. Read demo.py\n[>] 2. Set x to 7')

  text = H.chat_text()
  local accepted_at = assert(text:find('(accepted the plan)', 1, true), 'the accepted turn in the chat')
  local after = text:sub(accepted_at)
  T.contains(after, '**Todo 2/2**\n- [x] Read demo.py\n- [x] Set x to 7')
  T.eq(nil, after:find('Todo 1/2', 1, true), 'the list was redrawn in place, not appended:\n' .. after)
  local _, calls = after:gsub('▸ todo_write', '')
  T.eq(2, calls, 'both todo_write calls are still shown under the list')
  T.contains(after, 'Both steps are done.')
  T.eq({ '[x] 1. Read demo.py', '[x] 2. Set x to 7' }, quickfix_texts())
  vim.cmd('wincmd p')
end)

T.test(':Claw plan accept carries out the plan of the current session', function()
  H.open('demo.py')
  vim.cmd('Claw mode plan')
  H.script({ plan_call('- Rename x to y') })
  local done = send_from_chat('Plan a rename')
  T.eq('plan', done.result.stopReason)
  T.contains(H.chat_text(), '### Plan\n- Rename x to y')
  H.script({ { text = 'Renamed.' } })
  local before = #H.events.ask_done
  vim.cmd('Claw plan accept')
  local accepted = wait_ask(before)
  T.eq('done', accepted.result.stopReason)
  local requests = H.model_requests()
  T.contains(last_user(requests[#requests]), 'The user accepted this plan')
  T.contains(last_user(requests[#requests]), '- Rename x to y')
  -- The plan's step seeded the todo list.
  T.contains(H.chat_text(), '**Todo 0/1**\n- [ ] Rename x to y')
  vim.cmd('Claw plan accept')
  T.eq(nil, require('claw.chat_render').pending_plan, 'an accepted plan is not accepted twice')
  vim.cmd('wincmd p')
end)

T.run()
