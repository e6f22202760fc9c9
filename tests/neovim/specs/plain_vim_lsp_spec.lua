-- Stock Neovim `vim.lsp`, no claw plugin (issue 14): the server is started with vim.lsp.start
-- like any language server; a `claw:` comment and "Ask about this file" run from code actions
-- (vim.lsp.buf.code_action), approvals come through vim.ui.select, answers through
-- vim.notify (window/showMessage) and window/showDocument, progress through LspProgress.
local T = dofile(os.getenv('CLAW_TEST_DIR') .. '/runner.lua')
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')

vim.o.swapfile = false
vim.o.more = false

local notes, shown, progress, selects = {}, {}, {}, {}
vim.notify = function(message)
  table.insert(notes, message)
end
vim.ui.select = function(items, opts, on_choice) -- the user picks "Allow once"
  table.insert(selects, opts.prompt or '')
  for index, item in ipairs(items) do
    local label = opts.format_item and opts.format_item(item) or item.title or tostring(item)
    if label == 'Allow once' then
      return on_choice(item, index)
    end
  end
  on_choice(nil, nil)
end
local show_document = vim.lsp.handlers['window/showDocument']
vim.lsp.handlers['window/showDocument'] = function(err, result, ctx, config)
  table.insert(shown, result.uri)
  return show_document(err, result, ctx, config)
end
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(args)
    table.insert(progress, args.data.params.value.kind)
  end,
})

local function noted(needle)
  for _, message in ipairs(notes) do
    if message:find(needle, 1, true) then
      return message
    end
  end
end

local buf = vim.fn.bufadd(H.workspace .. '/demo.py')
vim.fn.bufload(buf)
vim.api.nvim_set_current_buf(buf)
vim.bo[buf].filetype = 'python'
local client_id = vim.lsp.start({
  name = 'claw',
  cmd = { assert(os.getenv('CLAW_LSP')) },
  root_dir = H.workspace,
  init_options = { tier = 'write' },
})
T.ok(client_id, 'vim.lsp.start')
T.wait(function()
  local client = vim.lsp.get_client_by_id(client_id)
  return client and client.initialized
end, 'the server to initialize')

local function run_action(title)
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == title
    end,
  })
end

T.test('a claw: comment runs from a code action; edit, progress and transcript arrive', function()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { '# claw: make x two', 'x = 1' })
  H.script({
    { tool_calls = { { name = 'edit_file', arguments = { path = 'demo.py', old_text = 'x = 1', new_text = 'x = 2' } } } },
    { text = 'x is two now.\n\n' .. string.rep('Some more words. ', 40) },
  })
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  run_action('Claw: make x two')
  T.wait(function()
    return vim.deep_equal({ 'x = 2' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
  end, 'the edit (comment line removed)', 30000)
  T.wait(function()
    return #shown > 0 and noted('claw: x is two now.')
  end, 'the transcript and the message', 30000)
  T.contains(noted('claw: x is two now.'), 'Changed: demo.py')
  T.contains(shown[1], '/transcripts/', 'the transcript under the state dir')
  T.ok(vim.tbl_contains(progress, 'begin') and vim.tbl_contains(progress, 'end'), vim.inspect(progress))
end)

T.test('an approval through vim.ui.select, then the answer', function()
  H.script({
    { tool_calls = { { name = 'shell', arguments = { command = 'echo ok > approved.txt' } } } },
    { text = 'Ran it.' },
  })
  run_action('Claw: Ask about this file')
  T.wait(function()
    return noted('claw: Ran it.')
  end, 'the answer', 30000)
  T.ok(#selects > 0 and selects[1]:find('claw wants to run shell', 1, true), vim.inspect(selects))
  T.ok(vim.uv.fs_stat(H.workspace .. '/approved.txt'), 'the approved command ran')
end)

T.on_finish(function()
  T.log('--- notifications ---\n' .. table.concat(notes, '\n'))
end)
T.run()
