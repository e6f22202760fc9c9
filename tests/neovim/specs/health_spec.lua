-- :checkhealth claw says what works and what is wrong.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write' })

---@return string
local function checkhealth()
  vim.cmd('checkhealth claw')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  T.log(text)
  vim.cmd('bwipe!')
  return text
end

local function stop_clients()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'claw' })) do
    client:stop(true)
  end
  T.wait(function()
    return #vim.lsp.get_clients({ name = 'claw' }) == 0
  end, 'claw clients to stop')
end

T.test('healthy setup: server, version, backend reachable, sandbox status', function()
  H.open('demo.py')
  local text = checkhealth()
  T.contains(text, 'claw-lsp found')
  T.contains(text, 'version')
  T.contains(text, 'backend reachable')
  T.contains(text, 'sandbox')
  T.ok(not text:find('ERROR', 1, true), 'no errors in a healthy setup')
  T.ok(not text:find('test-key', 1, true), 'the API key is never shown')
end)

T.test('unreachable backend is reported as an error', function()
  stop_clients()
  require('claw').setup({ server = { baseUrl = 'http://127.0.0.1:9/v1' } })
  local text = checkhealth()
  T.contains(text, 'backend not reachable')
  T.contains(text, 'ERROR')
end)

T.test('missing claw-lsp is reported with the fix', function()
  stop_clients()
  require('claw').setup({ cmd = { '/nonexistent/claw-lsp' } })
  local text = checkhealth()
  T.contains(text, 'claw-lsp not found')
  T.contains(text, 'vim.g.claw')
  T.contains(text, 'ERROR')
end)

T.run()
