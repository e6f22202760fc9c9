-- MCP servers from the plugin's `mcp_servers` option: a tool call asks through vim.ui.select,
-- :Claw prompt picks a server prompt and runs it, :Claw prompt <Tab> completes, :Claw mcp.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
local repo = vim.fs.dirname(vim.fs.dirname(assert(os.getenv('CLAW_TEST_DIR'))))
local record = vim.fs.dirname(H.workspace) .. '/mcp-calls.jsonl'
H.setup({ tier = 'read-only', approvals = 'ask' }, {
  mcp_servers = {
    fx = {
      command = assert(os.getenv('CLAW_PYTHON')),
      args = { '-m', 'tests.support.mcp_fixture', '--record', record },
      cwd = repo,
      env = {}, -- an empty Lua table (it arrives as [])
    },
  },
})

---@return string
local function last_tool_result()
  local requests = H.model_requests()
  local messages = requests[#requests].messages
  for index = #messages, 1, -1 do
    if messages[index].role == 'tool' then
      return messages[index].content
    end
  end
  return ''
end

T.test('an MCP tool call asks in vim.ui.select and its result reaches the model', function()
  H.open('demo.py')
  local asked = H.stub_select(H.pick_title('Allow once'))
  H.script({
    { tool_calls = { { name = 'mcp__fx__write_note', arguments = { text = 'from nvim' } } } },
    { text = 'Noted.' },
  })
  local done = H.ask('Claw ask note it', 90000)
  T.eq('done', done.result.stopReason)
  T.eq(1, #asked, 'asked once')
  T.contains(asked[1].prompt, 'mcp__fx__write_note')
  T.eq('noted: from nvim', last_tool_result())
  T.contains(table.concat(vim.fn.readfile(record), '\n'), '"tool": "write_note"')
end)

T.test(':Claw prompt picks a prompt, asks its arguments and runs it', function()
  H.open('demo.py')
  local asked = H.stub_select(function(items)
    return items[1]
  end)
  local input_prompt = nil
  vim.ui.input = function(opts, on_confirm)
    input_prompt = opts.prompt
    on_confirm('"the parser" fr')
  end
  H.script({ { text = 'Reviewed.' } })
  local done = H.ask('Claw prompt', 90000)
  T.eq('done', done.result.stopReason)
  T.eq('claw_mcp_prompt', asked[1].kind)
  T.eq('/mcp__fx__review', asked[1].items[1].command)
  T.contains(input_prompt, '<topic> [lang]')
  local requests = H.model_requests()
  local messages = requests[#requests].messages
  T.contains(messages[#messages].content, 'Please review the parser in fr.')
  T.eq({ 'mcp__fx__review' }, require('claw.commands').complete('mcp', 'Claw prompt mcp'))
end)

T.test(':Claw mcp shows the servers', function()
  H.open('demo.py')
  vim.cmd('Claw mcp')
  T.wait(function()
    return table.concat(H.lines(0), '\n'):find('fx: ready', 1, true)
  end, 'the MCP servers buffer')
  T.contains(table.concat(H.lines(0), '\n'), '1 prompts')
  vim.cmd('close')
end)

T.run()
