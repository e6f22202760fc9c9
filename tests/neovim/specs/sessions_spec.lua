-- :Claw sessions (vim.ui.select: resume, fork, export, delete), :Claw new, :Claw tier.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write' })

T.test(':Claw sessions exports a past session as Markdown', function()
  H.open('demo.py')
  H.script({ { text = 'First answer.' } })
  T.eq('done', H.ask('Claw ask remember the word pelican').result.stopReason)
  local asked = H.stub_select(function(items, opts)
    if opts.kind == 'claw_session' then
      return items[1]
    end
    return 'export'
  end)
  local buffers_before = #vim.api.nvim_list_bufs()
  vim.cmd('Claw sessions')
  T.wait(function()
    return #vim.api.nvim_list_bufs() > buffers_before and vim.bo.filetype == 'markdown'
      and vim.bo.buftype == 'nofile' and vim.api.nvim_get_current_buf() ~= require('claw.chat').buf()
  end, 'the exported session buffer')
  T.contains(table.concat(H.lines(0), '\n'), 'pelican')
  T.eq({ 'claw_session', 'claw_session_action' }, { asked[1].kind, asked[2].kind })
  T.eq({ 'resume', 'fork', 'export', 'delete' }, asked[2].items)
  vim.cmd('bwipe!')
end)

T.test(':Claw new starts a fresh session', function()
  H.open('demo.py')
  local client = vim.lsp.get_clients({ name = 'claw' })[1]
  local state = require('claw.state').client(client.id)
  local old = state.session
  T.ok(old, 'a session exists')
  vim.cmd('Claw new')
  T.wait(function()
    return state.session and state.session ~= old
  end, 'a new session id')
  H.script({ { text = 'Second.' } })
  local done = H.ask('Claw ask hello again')
  T.eq(state.session, done.result.session)
  T.ok(done.result.session ~= old, 'the ask used the new session')
end)

T.test(':Claw tier changes the tier (user initiated)', function()
  H.open('demo.py')
  local client = vim.lsp.get_clients({ name = 'claw' })[1]
  vim.cmd('Claw tier read-only')
  T.wait(function()
    return require('claw.state').client(client.id).tier == 'read-only'
  end, 'tier read-only')
  local response = client:request_sync('workspace/executeCommand', { command = 'claw.status', arguments = { vim.empty_dict() } }, 10000)
  T.eq('read-only', response.result.tier)
end)

T.run()
