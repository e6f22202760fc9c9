-- claw's language tools through Neovim's own language servers (issue 16): jedi-language-server
-- runs as a separate client of the buffers; claw runs no language server of its own (no
-- languageServers setting). definition and diagnostics reach the model through `claw/lsp`
-- from jedi's client, and each edit reports the errors it introduced and fixed.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write' })

local jedi = assert(os.getenv('CLAW_JEDI'), 'CLAW_JEDI not set')
vim.lsp.config('jedi', { cmd = { jedi }, filetypes = { 'python' }, root_markers = { '.git' } })
vim.lsp.enable('jedi')

-- jedi publishes about a second after each change: count its publishes per buffer.
local published = {}
vim.api.nvim_create_autocmd('DiagnosticChanged', {
  callback = function(args)
    published[args.buf] = (published[args.buf] or 0) + 1
  end,
})

H.write('lib.py', { 'def greet(name):', "    return 'hello ' + name" })
H.write('app.py', { 'from lib import greet', '', 'print(greet("world"))' })

---@return integer bufnr
local function open_with_jedi(name)
  local buf = H.open(name)
  T.wait(function()
    local client = vim.lsp.get_clients({ bufnr = buf, name = 'jedi' })[1]
    return client and client.initialized
  end, 'jedi attached to ' .. name, 30000)
  T.wait(function()
    return (published[buf] or 0) > 0
  end, 'jedi published diagnostics for ' .. name, 20000)
  return buf
end

--- The content of every tool message the model was sent, in order.
local function tool_results()
  local out = {}
  for _, request in ipairs(H.model_requests()) do
    local tail = {}
    for index = #request.messages, 1, -1 do
      local message = request.messages[index]
      if message.role ~= 'tool' then
        break
      end
      table.insert(tail, 1, message.content)
    end
    vim.list_extend(out, tail)
  end
  return out
end

local function call(name, arguments)
  return { tool_calls = { { name = name, arguments = arguments } } }
end

T.test('definition and references come from jedi through claw/lsp', function()
  open_with_jedi('app.py')
  H.script({
    call('definition', { path = 'app.py', line = 3, symbol = 'greet' }),
    call('references', { path = 'app.py', line = 3, symbol = 'greet' }),
    { text = 'It is in lib.py.' },
  })
  local done = H.ask('Claw ask where is greet defined')
  T.eq('done', done.result.stopReason)
  local results = tool_results()
  local definition, references = results[#results - 1], results[#results]
  T.contains(definition, "'greet' is defined at (from jedi)")
  T.contains(definition, 'lib.py:1:5: def greet(name):')
  T.contains(references, "3 reference(s) to 'greet' (from jedi)")
  T.contains(references, 'app.py:1:17: from lib import greet')
  T.contains(references, 'app.py:3:7: print(greet("world"))')
  T.contains(references, 'lib.py:1:5: def greet(name):')
end)

T.test('an edit reports the error it introduces, the next the one it fixes', function()
  local buf = open_with_jedi('app.py')
  H.script({
    call('edit_file', { path = 'app.py', old_text = 'print(greet("world"))', new_text = 'print(greet("world")' }),
    call('diagnostics', { path = 'app.py' }),
    call('edit_file', { path = 'app.py', old_text = 'print(greet("world")', new_text = 'print(greet("world"))' }),
    { text = 'Broke it and fixed it.' },
  })
  local done = H.ask('Claw ask break and fix the call')
  T.eq('done', done.result.stopReason)
  local results = tool_results()
  local breaking, listed, fixing = results[#results - 2], results[#results - 1], results[#results]
  T.contains(breaking, 'Diagnostics: app.py: 1 new error')
  T.contains(breaking, "[compile]: SyntaxError: '(' was never closed")
  T.contains(listed, 'app.py: 1 error, 0 warnings (from the editor)')
  T.contains(fixing, 'Diagnostics: app.py: fixed 1 error')
  T.eq({ 'from lib import greet', '', 'print(greet("world"))' }, H.lines(buf))
end)

T.test('no claw-run language server was started', function()
  local function children(pid)
    local done = vim.system({ 'ps', '-o', 'pid=,args=', '--ppid', tostring(pid) }, { text = true }):wait()
    return vim.split(vim.trim(done.stdout or ''), '\n', { trimempty = true })
  end
  local claw_pid
  for _, row in ipairs(children(vim.fn.getpid())) do
    if row:find('claw', 1, true) and not row:find('jedi', 1, true) then
      claw_pid = tonumber(vim.trim(row):match('^(%d+)'))
    end
  end
  T.ok(claw_pid, 'claw-lsp is a child of nvim')
  for _, row in ipairs(children(claw_pid)) do
    T.ok(not row:find('jedi', 1, true), 'claw runs no jedi of its own: ' .. row)
  end
end)

T.on_finish(function()
  T.log('--- conversation ---\n' .. H.chat_text())
end)
T.run()
