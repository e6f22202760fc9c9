-- The plugin's pure-Lua parts: loading, :Claw completion, diff application, LSP config.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup()

T.test(':Claw completes subcommands and tiers', function()
  local subs = vim.fn.getcompletion('Claw ', 'cmdline')
  for _, name in ipairs({ 'ask', 'cancel', 'undo', 'sessions', 'new', 'tier', 'accept', 'reject', 'doctor' }) do
    T.ok(vim.tbl_contains(subs, name), 'completion offers ' .. name)
  end
  T.eq({ 'write' }, vim.fn.getcompletion('Claw tier wr', 'cmdline'))
  T.eq({ 'sessions', 'new' }, { vim.fn.getcompletion('Claw se', 'cmdline')[1], vim.fn.getcompletion('Claw ne', 'cmdline')[1] })
end)

T.test('<Plug> mappings exist and nothing heavy loaded at startup', function()
  T.ok(vim.fn.maparg('<Plug>(claw-ask)', 'n') ~= '', '<Plug>(claw-ask)')
  T.ok(vim.fn.maparg('<Plug>(claw-ask-selection)', 'x') ~= '', '<Plug>(claw-ask-selection)')
  T.eq(nil, package.loaded['claw.chat'], 'chat module is lazy')
  T.eq(nil, package.loaded['claw.actions'], 'actions module is lazy')
end)

T.test('lsp/claw.lua is a vim.lsp.Config found by vim.lsp.enable', function()
  T.ok(vim.lsp.is_enabled('claw'), 'enabled by plugin/claw.lua')
  local cfg = vim.lsp.config.claw
  T.eq({ os.getenv('CLAW_LSP') }, cfg.cmd)
  T.eq(true, cfg.init_options.clientCapabilities.saveDocuments)
  T.eq('function', type(cfg.handlers['window/showMessageRequest']))
  T.eq('function', type(cfg.commands['claw.ask']))
end)

T.test('setup() overrides vim.g.claw and reaches the LSP config', function()
  require('claw').setup({ server = { tier = 'write', editMode = 'propose' } })
  local cfg = vim.lsp.config.claw
  T.eq('write', cfg.init_options.tier)
  T.eq('propose', cfg.settings.claw.editMode)
  require('claw.config').set(nil)
end)

T.test('unified diffs apply to buffer lines, and refuse stale context', function()
  local proposals = require('claw.proposals')
  local diff = table.concat({
    '--- a/demo.py', '+++ b/demo.py', '@@ -1,3 +1,4 @@', ' a', '-b', '+B', '+B2', ' c',
    '@@ -5,0 +7,1 @@', '+after e',
  }, '\n')
  T.eq({ 'a', 'B', 'B2', 'c', 'd', 'e', 'after e', 'f' },
    proposals.apply_unified_diff({ 'a', 'b', 'c', 'd', 'e', 'f' }, diff))
  T.eq(nil, proposals.apply_unified_diff({ 'a', 'x', 'c', 'd', 'e', 'f' }, diff))
  T.eq(nil, proposals.apply_unified_diff({ 'a' }, 'not a diff'))
end)

T.test('conversation renders events: text, folded tool calls with results, proposals', function()
  local chat = require('claw.chat')
  chat.begin_turn('hello', nil)
  chat.on_event({ kind = 'text', delta = 'Hel' })
  chat.on_event({ kind = 'text', delta = 'lo\nworld' })
  chat.on_event({ kind = 'toolCall', id = 't1', name = 'read_file', arguments = { path = 'demo.py' } })
  chat.on_event({ kind = 'toolCall', id = 't2', name = 'grep', arguments = { pattern = 'x' } })
  chat.on_event({ kind = 'toolResult', id = 't1', ok = true, summary = '1 line' })
  chat.on_event({ kind = 'proposal', proposal = 'p1', uri = vim.uri_from_fname(H.workspace .. '/demo.py'), diff = '@@ -1 +1 @@\n-x = 1\n+x = 2' })
  chat.on_event({ kind = 'done', stopReason = 'done' })
  local lines = H.lines(chat.buf())
  local text = table.concat(lines, '\n')
  T.contains(text, '## You\n\nhello\n\n## Claw\nHello\nworld\n▸ read_file demo.py')
  -- t1's result lands inside t1's block, before t2's header.
  local result_row, t2_row
  for row, line in ipairs(lines) do
    if line:find('✓ 1 line', 1, true) then result_row = row end
    if line:find('▸ grep', 1, true) then t2_row = row end
  end
  T.ok(result_row and t2_row and result_row < t2_row, 'result inside its tool block')
  T.contains(text, '◆ proposal p1: demo.py')
  T.contains(text, '— done')
  local win = chat.open({ focus = true })
  T.eq('markdown', vim.bo[chat.buf()].filetype)
  T.eq('nofile', vim.bo[chat.buf()].buftype)
  T.ok(vim.fn.foldclosed(t2_row) ~= -1, 'tool calls are folded')
  for row, line in ipairs(lines) do
    if line:find('@@ -1 +1 @@', 1, true) then
      vim.api.nvim_win_set_cursor(win, { row, 0 })
    end
  end
  T.eq('p1', chat.proposal_under_cursor())
  vim.cmd('normal q')
  T.eq(0, #vim.fn.win_findbuf(chat.buf()), 'q closes the conversation')
end)

T.test('the conversation can be a float', function()
  require('claw').setup({ chat = { layout = 'float' } })
  local chat = require('claw.chat')
  local win = chat.open({ focus = false })
  T.ok(vim.api.nvim_win_get_config(win).relative ~= '', 'floating window')
  T.ok(vim.api.nvim_get_current_win() ~= win, 'focus not stolen')
  chat.close()
  require('claw.config').set(nil)
end)

T.run()
