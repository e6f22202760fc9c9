-- :Claw ask edits the buffer, `silent undo` reverts it; :Claw undo reverts a whole turn;
-- a visual range goes along as the selection; the conversation shows the turn.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write' })

local function read_then_edit(path, old_text, new_text, final_text)
  return {
    { tool_calls = { { name = 'read_file', arguments = { path = path } } } },
    { tool_calls = { { name = 'edit_file', arguments = { path = path, old_text = old_text, new_text = new_text } } } },
    { text = final_text },
  }
end

T.test(':Claw ask changes the buffer and `silent undo` reverts it', function()
  local buf = H.open('demo.py')
  H.script(read_then_edit('demo.py', 'x = 1', 'x = 2', 'Changed x to 2.'))
  local done = H.ask('Claw ask set x to 2')
  T.eq(nil, done.err)
  T.eq('done', done.result.stopReason)
  T.eq({ 'x = 2' }, H.lines(buf))
  local chat = H.chat_text()
  T.contains(chat, 'set x to 2')
  T.contains(chat, '▸ edit_file demo.py')
  T.contains(chat, 'Changed x to 2.')
  T.ok(#vim.fn.win_findbuf(require('claw.chat').buf()) == 1, 'conversation opened')
  T.eq(buf, vim.api.nvim_get_current_buf(), 'focus stays in the code')
  vim.cmd('silent undo')
  T.eq({ 'x = 1' }, H.lines(buf))
  T.eq(false, vim.bo[buf].modified, 'undo returns to the saved state')
end)

T.test(':Claw undo reverts the last turn', function()
  local buf = H.open('demo.py')
  H.script(read_then_edit('demo.py', 'x = 1', 'x = 3', 'Now 3.'))
  local done = H.ask('Claw ask set x to 3')
  T.eq('done', done.result.stopReason)
  T.eq({ 'x = 3' }, H.lines(buf))
  local undone = nil
  require('claw.actions').undo(function(err, result)
    undone = { err = err, result = result }
  end)
  T.wait(function()
    return undone
  end, 'claw.undoTurn response')
  T.eq(nil, undone.err)
  T.eq({ 'x = 1' }, H.lines(buf))
end)

T.test('a visual range sends the selection with the prompt', function()
  H.write('sel.py', { 'alpha = 1', 'beta_marker = 2', 'gamma = 3' })
  local buf = H.open('sel.py')
  H.script({ { text = 'That line sets beta.' } })
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.cmd('normal! V')
  vim.cmd('normal! \27') -- leave visual mode so '< and '> are set
  local done = H.ask("'<,'>Claw ask what does this do")
  T.eq('done', done.result.stopReason)
  T.contains(H.chat_text(), '(sel.py:2-2)')
  local requests = H.model_requests()
  local last = vim.json.encode(requests[#requests].messages)
  T.contains(last, 'beta_marker', 'the selected text reached the model')
  T.eq({ 'alpha = 1', 'beta_marker = 2', 'gamma = 3' }, H.lines(buf))
end)

T.test('prompt via vim.ui.input when omitted; statusline component', function()
  H.open('demo.py')
  vim.ui.input = function(_, on_confirm)
    on_confirm('hello from input')
  end
  H.script({ { text = 'Hi.' } })
  local done = H.ask('Claw ask')
  T.eq('done', done.result.stopReason)
  T.contains(H.chat_text(), 'hello from input')
  T.contains(require('claw').status(), 'claw')
end)

T.test('an edit to a file that is not open is written to disk, not left in a hidden buffer', function()
  H.write('other.py', { 'y = 1' })
  H.open('demo.py')
  H.script({
    { tool_calls = { { name = 'read_file', arguments = { path = 'other.py' } } } },
    { tool_calls = { { name = 'edit_file', arguments = { path = 'other.py', old_text = 'y = 1', new_text = 'y = 2' } } } },
    { text = 'Edited other.py.' },
  })
  T.eq('done', H.ask('Claw ask set y to 2').result.stopReason)
  T.eq({ 'y = 2' }, vim.fn.readfile(H.workspace .. '/other.py'))
  local other = vim.fn.bufnr('^' .. vim.fn.fnameescape(H.workspace .. '/other.py') .. '$')
  T.eq(false, other ~= -1 and vim.bo[other].modified, 'no hidden modified buffer')
end)

T.test('an open buffer edited by the agent is saved when a shell command needs it', function()
  local buf = H.open('demo.py')
  vim.cmd('silent write')
  H.script({
    { tool_calls = { { name = 'read_file', arguments = { path = 'demo.py' } } } },
    { tool_calls = { { name = 'edit_file', arguments = { path = 'demo.py', old_text = 'x = 1', new_text = 'x = 5' } } } },
    { text = 'Edited.' },
  })
  T.eq('done', H.ask('Claw ask set x to 5').result.stopReason)
  T.eq({ 'x = 5' }, H.lines(buf))
  T.eq(true, vim.bo[buf].modified, 'an open buffer is left for the user to save')
  T.eq({ 'x = 1' }, vim.fn.readfile(H.workspace .. '/demo.py'))
  -- The command reads the disk, so the server asks us to save first (claw/saveDocuments).
  H.stub_select(H.pick_title('Allow once'))
  H.script({
    { tool_calls = { { name = 'shell', arguments = { command = 'cat demo.py' } } } },
    { text = 'Ran it.' },
  })
  T.eq('done', H.ask('Claw ask show demo.py').result.stopReason)
  T.eq({ 'x = 5' }, vim.fn.readfile(H.workspace .. '/demo.py'))
  T.eq(false, vim.bo[buf].modified)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = 1' })
  vim.cmd('silent write')
end)

T.test(':Claw ask attaches a file that no FileType event attached (no filetype)', function()
  H.write('NOTES', { 'todo: nothing' })
  vim.cmd.edit(vim.fn.fnameescape(H.workspace .. '/NOTES'))
  local buf = vim.api.nvim_get_current_buf()
  T.eq('', vim.bo[buf].filetype)
  T.eq(0, #vim.lsp.get_clients({ bufnr = buf, name = 'claw' }))
  H.script({ { text = 'Nothing to do.' } })
  T.eq('done', H.ask('Claw ask anything left?').result.stopReason)
  T.eq(1, #vim.lsp.get_clients({ bufnr = buf, name = 'claw' }))
  T.eq(1, #vim.lsp.get_clients({ name = 'claw' }), 'the folder client was reused')
end)

T.test('stale edits are refused; claw/saveDocuments saves workspace buffers only', function()
  local buf, client = H.open('demo.py')
  local handlers = require('claw.handlers')
  local uri = vim.uri_from_bufnr(buf)
  local version = vim.lsp.util.buf_versions[buf]
  local function edit_to(text, at_version)
    return handlers.apply_edit(nil, {
      label = 'claw: test',
      edit = { documentChanges = { {
        textDocument = { uri = uri, version = at_version },
        edits = { { range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 5 } }, newText = text } },
      } } },
    }, { client_id = client.id })
  end
  T.eq(false, edit_to('y = 0', version - 1).applied, 'older version refused')
  T.eq({ 'x = 1' }, H.lines(buf))
  T.eq(true, edit_to('x = 9', version).applied)
  T.eq({ 'x = 9' }, H.lines(buf))
  T.eq(true, vim.bo[buf].modified)
  local outside = vim.fn.tempname() .. '.py'
  vim.fn.writefile({ 'o = 1' }, outside)
  vim.cmd.edit(outside)
  local outside_buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(outside_buf, 0, -1, false, { 'o = 2' })
  local answer = handlers.save_documents(nil, { uris = { uri, vim.uri_from_bufnr(outside_buf) } }, { client_id = client.id })
  T.eq({ uri }, answer.saved)
  T.eq({ 'x = 9' }, vim.fn.readfile(H.workspace .. '/demo.py'))
  T.eq({ 'o = 1' }, vim.fn.readfile(outside), 'a file outside the workspace is not written')
  vim.cmd('bwipe!')
end)

T.run()
