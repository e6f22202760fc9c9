-- Code actions: the quick-fix on another tool's diagnostic, and selection actions.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write' })

T.test(':Claw fix runs the quick-fix for a linter diagnostic and edits the buffer', function()
  local buf = H.open('demo.py')
  local ns = vim.api.nvim_create_namespace('fake-linter')
  vim.diagnostic.set(ns, buf, {
    { lnum = 0, col = 0, end_lnum = 0, end_col = 5, message = 'x must be 2', severity = vim.diagnostic.severity.WARN, source = 'fakelint' },
  })
  H.script({
    { tool_calls = { { name = 'read_file', arguments = { path = 'demo.py' } } } },
    { tool_calls = { { name = 'edit_file', arguments = { path = 'demo.py', old_text = 'x = 1', new_text = 'x = 2' } } } },
    { text = 'Fixed.' },
  })
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local before = #H.events.ask_done
  vim.cmd('Claw fix')
  T.wait(function()
    return #H.events.ask_done > before
  end, 'the quick-fix turn to finish')
  T.eq('done', H.events.ask_done[#H.events.ask_done].result.stopReason)
  T.eq({ 'x = 2' }, H.lines(buf))
  T.contains(H.chat_text(), 'x must be 2', 'the prompt names the diagnostic')
  T.contains(H.chat_text(), 'Fixed.')
end)

T.test('a selection offers the Claw refactor actions', function()
  local buf, client = H.open('demo.py')
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 5 } },
    context = { diagnostics = {} },
  }
  local response = client:request_sync('textDocument/codeAction', params, 10000, buf)
  T.ok(response and not response.err, 'codeAction answered')
  local titles = vim.tbl_map(function(action)
    return action.title
  end, response.result or {})
  T.ok(vim.tbl_contains(titles, 'Claw: Explain selection'), vim.inspect(titles))
  T.ok(vim.tbl_contains(titles, 'Claw: Refactor selection'), vim.inspect(titles))
end)

T.on_finish(function()
  T.log('--- conversation ---\n' .. H.chat_text())
end)
T.run()
