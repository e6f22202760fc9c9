-- A tiny test runner for headless Neovim specs (no busted / mini.test offline).
-- Usage in a spec:  local T = dofile(os.getenv('CLAW_TEST_DIR') .. '/runner.lua')
--                   T.test('name', function() ... end); T.run()
-- Exit status: 0 when every case passed (`qall!`), 1 otherwise (`cquit 1`).
local T = { cases = {}, failures = 0 }

local log_path = os.getenv('CLAW_TEST_LOG')
local log_file = log_path and io.open(log_path, 'a') or nil

--- Writes one explicit line to the spec log (stdout is full of Neovim's own echoes).
function T.log(...)
  local parts = {}
  for index = 1, select('#', ...) do
    local value = select(index, ...)
    parts[#parts + 1] = type(value) == 'string' and value or vim.inspect(value)
  end
  local line = table.concat(parts, ' ')
  if log_file then
    log_file:write(line, '\n')
    log_file:flush()
  end
  io.stderr:write('[spec] ', line, '\n')
end

---@param name string
---@param fn fun()
function T.test(name, fn)
  table.insert(T.cases, { name = name, fn = fn })
end

--- Runs after all cases (e.g. to log the conversation transcript for debugging).
---@param fn fun()
function T.on_finish(fn)
  T.finisher = fn
end

function T.fail(message)
  error(message, 2)
end

function T.ok(value, message)
  if not value then
    error('expected truthy: ' .. (message or '?'), 2)
  end
  return value
end

function T.eq(expected, actual, message)
  if not vim.deep_equal(expected, actual) then
    error(
      ('%s\n  expected: %s\n  actual:   %s'):format(
        message or 'not equal',
        vim.inspect(expected),
        vim.inspect(actual)
      ),
      2
    )
  end
end

function T.contains(haystack, needle, message)
  if type(haystack) ~= 'string' or not haystack:find(needle, 1, true) then
    error(('%s: %q not found in:\n%s'):format(message or 'missing', needle, tostring(haystack)), 2)
  end
end

--- Waits (processing events) until `condition()` is truthy; fails with `what` on timeout.
---@param condition fun(): any
---@param what string
---@param timeout_ms integer?
function T.wait(condition, what, timeout_ms)
  local value
  local ok = vim.wait(timeout_ms or 15000, function()
    value = condition()
    return value
  end, 10)
  if not ok then
    error('timed out waiting for: ' .. what, 2)
  end
  return value
end

function T.run()
  local started = vim.uv.hrtime()
  for _, case in ipairs(T.cases) do
    T.log('RUN  ' .. case.name)
    local ok, err = xpcall(case.fn, debug.traceback)
    if ok then
      T.log('PASS ' .. case.name)
    else
      T.failures = T.failures + 1
      T.log('FAIL ' .. case.name .. '\n' .. tostring(err))
    end
  end
  if T.finisher then
    pcall(T.finisher)
  end
  T.log(
    ('%d passed, %d failed in %.1fs'):format(
      #T.cases - T.failures,
      T.failures,
      (vim.uv.hrtime() - started) / 1e9
    )
  )
  if log_file then
    log_file:close()
  end
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
  if T.failures > 0 or #T.cases == 0 then
    vim.cmd('cquit 1')
  else
    vim.cmd('qall!')
  end
end

return T
