-- Approvals arrive as window/showMessageRequest and are answered through vim.ui.select.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'read-only', approvals = 'ask' })

local function read_then_edit(old_text, new_text)
  return {
    { tool_calls = { { name = 'read_file', arguments = { path = 'demo.py' } } } },
    { tool_calls = { { name = 'edit_file', arguments = { path = 'demo.py', old_text = old_text, new_text = new_text } } } },
    { text = 'Finished.' },
  }
end

---@return string  the last tool message the model received
local function last_tool_result()
  local requests = H.model_requests()
  local messages = requests[#requests].messages
  for index = #messages, 1, -1 do
    if messages[index].role == 'tool' then
      return vim.json.encode(messages[index].content):lower()
    end
  end
  return ''
end

T.test('"Allow once" picked in vim.ui.select lets the edit through', function()
  local buf = H.open('demo.py')
  local asked = H.stub_select(H.pick_title('Allow once'))
  H.script(read_then_edit('x = 1', 'x = 2'))
  local done = H.ask('Claw ask set x to 2')
  T.eq('done', done.result.stopReason)
  T.eq(1, #asked, 'asked exactly once')
  T.eq('claw_approval', asked[1].kind)
  T.contains(asked[1].prompt, 'demo.py')
  local titles = vim.tbl_map(function(item)
    return item.title
  end, asked[1].items)
  T.eq({ 'Allow once', 'Allow for session', 'Deny' }, titles)
  T.eq({ 'x = 2' }, H.lines(buf))
  T.contains(H.chat_text(), 'approval')
end)

T.test('"Deny" leaves the buffer alone and the model gets a tool error', function()
  local buf = H.open('demo.py')
  local asked = H.stub_select(H.pick_title('Deny'))
  H.script(read_then_edit('x = 2', 'x = 3'))
  local done = H.ask('Claw ask set x to 3')
  T.eq('done', done.result.stopReason)
  T.eq(1, #asked)
  T.eq({ 'x = 2' }, H.lines(buf))
  local result = last_tool_result()
  T.ok(result:find('den') or result:find('declin'), 'tool error says denied: ' .. result)
end)

T.test('a dismissed picker counts as deny', function()
  local buf = H.open('demo.py')
  local asked = H.stub_select(function()
    return nil
  end)
  H.script(read_then_edit('x = 2', 'x = 4'))
  local done = H.ask('Claw ask set x to 4')
  T.eq('done', done.result.stopReason)
  T.eq(1, #asked)
  T.eq({ 'x = 2' }, H.lines(buf))
end)

T.on_finish(function()
  T.log('--- conversation ---\n' .. H.chat_text())
end)
T.run()
