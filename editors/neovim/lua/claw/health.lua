-- :checkhealth claw: the server binary, its version, the backend (claw.doctor), the sandbox.
local M = {}

local REQUEST_TIMEOUT_MS = 30000

--- Drops credentials a user may have put into a URL (https://user:token@host/...).
---@param url string
---@return string
local function without_userinfo(url)
  return (url:gsub('^(%a[%w+.-]*://)[^/@]*@', '%1'))
end

---@param lines string
---@param report fun(msg: string)
local function each_line(lines, report)
  for _, line in ipairs(vim.split(lines, '\n', { trimempty = true })) do
    report(line)
  end
end

---@return boolean found
local function check_binary()
  local health = vim.health
  local cmd = require('claw.config').get().cmd
  local exe = type(cmd) == 'table' and cmd[1] or nil
  if not exe then
    health.warn('vim.g.claw.cmd is not a list; cannot check the server binary')
    return true
  end
  if vim.fn.executable(exe) ~= 1 then
    health.error(('claw-lsp not found: %q is not executable'):format(exe), {
      'Install it from your claw_lsp checkout: pipx install ./claw_lsp (or scripts/quickstart.sh, then point vim.g.claw.cmd at .venv/bin/claw-lsp)',
      "Or point the plugin at it: vim.g.claw = { cmd = { '/path/to/claw-lsp' } }",
    })
    return false
  end
  health.ok('claw-lsp found: ' .. vim.fn.exepath(exe))
  local ok, done = pcall(function()
    return vim.system({ exe, '--version' }, { text = true }):wait(10000)
  end)
  if ok and done and done.code == 0 then
    health.ok('version: ' .. vim.trim(done.stdout or ''))
  else
    health.warn('`claw-lsp --version` failed; the install may be broken or too old')
  end
  return true
end

---@return vim.lsp.Client?
local function running_client()
  local client_mod = require('claw.client')
  local client = client_mod.find(vim.api.nvim_get_current_buf())
  if client then
    return client
  end
  local id = client_mod.start(nil)
  client = id and vim.lsp.get_client_by_id(id) or nil
  if not client then
    return nil
  end
  vim.wait(REQUEST_TIMEOUT_MS, function()
    return client.initialized or client:is_stopped()
  end, 20)
  return client.initialized and client or nil
end

---@param client vim.lsp.Client
---@param command string
---@return table? result
---@return string? error
local function call(client, command)
  local response, err = client:request_sync('workspace/executeCommand', {
    command = command,
    arguments = { vim.empty_dict() },
  }, REQUEST_TIMEOUT_MS)
  if not response then
    return nil, tostring(err or 'no answer')
  end
  if response.err then
    return nil, tostring(response.err.message or 'error')
  end
  return response.result, nil
end

---@param report table
---@return boolean? reachable  nil when the report does not say
local function backend_reachable(report)
  for _, key in ipairs({ 'reachable', 'ok' }) do
    if type(report[key]) == 'boolean' then
      return report[key]
    end
  end
  if type(report.backend) == 'table' and type(report.backend.reachable) == 'boolean' then
    return report.backend.reachable
  end
  return nil
end

---@param client vim.lsp.Client
local function check_server(client)
  local health = vim.health
  local status, status_err = call(client, 'claw.status')
  if not status then
    health.error('claw.status failed: ' .. status_err)
  else
    health.ok(
      ('tier %s, approvals %s, edits %s'):format(
        tostring(status.tier),
        tostring(status.approvals),
        tostring(status.editMode)
      )
    )
    local backend = type(status.backend) == 'table' and status.backend or {}
    if backend.baseUrl and backend.baseUrl ~= vim.NIL then
      health.info(
        ('backend: %s (model %s)'):format(without_userinfo(backend.baseUrl), tostring(backend.model))
      )
    end
    local sandbox = type(status.sandbox) == 'table' and status.sandbox or {}
    if sandbox.available == true then
      health.ok('sandbox: available')
    else
      health.warn('sandbox: unavailable (' .. tostring(sandbox.reason or 'unknown') .. ')', {
        'Shell commands then need approval every time. Install bubblewrap: apt install bubblewrap',
      })
    end
  end
  health.start('claw: backend (claw.doctor)')
  local doctor, doctor_err = call(client, 'claw.doctor')
  if not doctor then
    health.error('claw.doctor failed: ' .. doctor_err)
    return
  end
  local report = type(doctor.report) == 'table' and doctor.report or {}
  local reachable = backend_reachable(report)
  local text = type(doctor.text) == 'string' and doctor.text or ''
  if reachable == false then
    health.error('backend not reachable', {
      'Set OPENAI_BASE_URL / OPENAI_MODEL (and OPENAI_API_KEY in the environment)',
      'or vim.g.claw = { server = { baseUrl = ..., model = ... } }',
    })
    each_line(text, health.info)
  elseif reachable == true then
    health.ok('backend reachable')
    each_line(text, health.info)
  else
    each_line(text, health.info)
  end
end

function M.check()
  local health = vim.health
  health.start('claw: server')
  if vim.fn.has('nvim-0.11') ~= 1 then
    health.error('Neovim 0.11 or newer is required')
    return
  end
  health.ok('Neovim ' .. tostring(vim.version()))
  if not check_binary() then
    return
  end
  if vim.lsp.is_enabled('claw') then
    health.ok("LSP config 'claw' enabled")
  else
    health.info("LSP config 'claw' not enabled (autostart = false); :Claw ask starts it")
  end
  local client = running_client()
  if not client then
    health.error('claw-lsp did not start or initialize (see :LspLog)')
    return
  end
  check_server(client)
end

return M
