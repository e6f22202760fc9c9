-- editMode = propose: proposals are announced, reviewed as a diff, accepted or rejected.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write', editMode = 'propose' })

local function propose(old_text, new_text)
  H.script({
    { tool_calls = { { name = 'read_file', arguments = { path = 'demo.py' } } } },
    { tool_calls = { { name = 'edit_file', arguments = { path = 'demo.py', old_text = old_text, new_text = new_text } } } },
    { text = 'Proposed.' },
  })
  local since = #H.events.claw_events
  local done = H.ask('Claw ask change x')
  T.eq('done', done.result.stopReason)
  return H.wait_event('proposal', since), done
end

T.test('a proposal is shown as a diff and accepted from the diff buffer', function()
  local buf = H.open('demo.py')
  local event, done = propose('x = 1', 'x = 2')
  T.eq({ 'x = 1' }, H.lines(buf), 'nothing applied before acceptance')
  T.eq(event.proposal, done.result.edits[1].proposal)
  T.contains(H.chat_text(), '◆ proposal ' .. event.proposal)
  T.contains(require('claw').status(), '◆1')
  vim.cmd('Claw diff')
  local scratch = vim.api.nvim_get_current_buf()
  T.eq({ 'x = 2' }, H.lines(scratch), 'the proposed text')
  T.ok(vim.wo.diff, 'diff mode')
  T.eq(2, #vim.api.nvim_list_tabpages())
  vim.fn.maparg('a', 'n', false, true).callback()
  T.wait(function()
    return H.lines(buf)[1] == 'x = 2'
  end, 'the accepted proposal to reach the buffer')
  T.wait(function()
    return #vim.api.nvim_list_tabpages() == 1
  end, 'the diff tab to close')
  T.eq(0, #require('claw.state').pending_proposals())
  vim.cmd('silent undo')
  T.eq({ 'x = 1' }, H.lines(buf), 'an accepted proposal is one undo step')
end)

T.test(':Claw reject discards the proposal', function()
  local buf = H.open('demo.py')
  local event = propose('x = 1', 'x = 5')
  local finished = nil
  require('claw.proposals').pick(function(id)
    T.eq(event.proposal, id)
    require('claw.proposals').reject(id, function(err)
      finished = { err = err }
    end)
  end)
  T.wait(function()
    return finished
  end, 'claw.rejectProposal response')
  T.eq(nil, finished.err)
  T.eq({ 'x = 1' }, H.lines(buf))
  T.eq(0, #require('claw.state').pending_proposals())
end)

T.test('"Claw: Accept proposal" code action at the location applies it', function()
  local buf = H.open('demo.py')
  propose('x = 1', 'x = 7')
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == 'Claw: Accept proposal'
    end,
  })
  T.wait(function()
    return H.lines(buf)[1] == 'x = 7'
  end, 'the code action to apply the proposal')
  T.wait(function()
    return #require('claw.state').pending_proposals() == 0
  end, 'the proposal list to be updated')
end)

T.on_finish(function()
  T.log('--- conversation ---\n' .. H.chat_text())
end)
T.run()
