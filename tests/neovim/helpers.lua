-- Shared helpers for the claw.nvim specs. The pytest wrapper (test_neovim.py) provides:
--   CLAW_PLUGIN_DIR  editors/neovim        CLAW_LSP        the claw-lsp executable
--   CLAW_MODEL_ROOT  scripted model URL    CLAW_PYTHON     a Python for HTTP control calls
--   CLAW_WORKSPACE   the temp workspace (also the cwd)
local T = dofile(os.getenv('CLAW_TEST_DIR') .. '/runner.lua')

local H = { T = T }

H.workspace = assert(os.getenv('CLAW_WORKSPACE'), 'CLAW_WORKSPACE not set')

--- Loads the plugin the way a plugin manager would (runtimepath + plugin/claw.lua).
---@param server table?  settings sent as initializationOptions (tier, approvals, editMode...)
---@param extra table?  other vim.g.claw keys
function H.setup(server, extra)
  vim.opt.runtimepath:prepend(assert(os.getenv('CLAW_PLUGIN_DIR')))
  vim.g.claw = vim.tbl_deep_extend('force', {
    cmd = { assert(os.getenv('CLAW_LSP')) },
    server = server or {},
    chat = { layout = 'split' },
  }, extra or {})
  vim.cmd('filetype on')
  vim.o.swapfile = false
  vim.o.more = false
  vim.cmd.runtime('plugin/claw.lua')
  T.ok(vim.fn.exists(':Claw') == 2, ':Claw command exists')
end

--- Sends a control request to the scripted model server.
---@param method 'GET'|'POST'
---@param path string
---@param body any
---@return any
local function control(method, path, body)
  local code = [[
import json, sys, urllib.request
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
data = body.encode() if method == "POST" else None
req = urllib.request.Request(url, data=data, method=method,
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req, timeout=10).read().decode())
]]
  local url = assert(os.getenv('CLAW_MODEL_ROOT')) .. path
  local done = vim
    .system({ assert(os.getenv('CLAW_PYTHON')), '-c', code, method, url, vim.json.encode(body or {}) }, { text = true })
    :wait(15000)
  T.eq(0, done.code, 'control call ' .. path .. ' failed: ' .. tostring(done.stderr))
  return vim.json.decode(done.stdout)
end

--- Queues replies on the scripted model (see tests/support/scripted_model.py).
---@param replies table[]
function H.script(replies)
  control('POST', '/_script', replies)
end

--- Every request the model received so far.
---@return table[]
function H.model_requests()
  return control('GET', '/_requests')
end

--- Writes a file into the workspace.
---@param name string
---@param lines string[]
---@return string path
function H.write(name, lines)
  local path = H.workspace .. '/' .. name
  vim.fn.writefile(lines, path)
  return path
end

--- Opens a workspace file and waits until the claw client is attached and initialized.
---@param name string
---@return integer bufnr
---@return vim.lsp.Client client
function H.open(name)
  local path = H.workspace .. '/' .. name
  local existing = vim.fn.bufnr('^' .. vim.fn.fnameescape(path) .. '$')
  if existing ~= -1 and vim.api.nvim_buf_is_loaded(existing) then
    vim.api.nvim_set_current_buf(existing) -- keeps unsaved agent edits (no :edit reload)
  else
    vim.cmd.edit(vim.fn.fnameescape(path))
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = T.wait(function()
    local found = vim.lsp.get_clients({ bufnr = bufnr, name = 'claw' })[1]
    return found and found.initialized and found
  end, 'claw client attached to ' .. name, 30000)
  return bufnr, client
end

---@param bufnr integer
---@return string[]
function H.lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
end

---@return string
function H.chat_text()
  return table.concat(H.lines(require('claw.chat').buf()), '\n')
end

--- Records every `User Claw*` autocmd so specs can wait for them.
H.events = { ask_done = {}, claw_events = {} }
vim.api.nvim_create_autocmd('User', {
  pattern = 'ClawAskDone',
  callback = function(args)
    table.insert(H.events.ask_done, args.data)
  end,
})
vim.api.nvim_create_autocmd('User', {
  pattern = 'ClawEvent',
  callback = function(args)
    table.insert(H.events.claw_events, args.data)
  end,
})

--- Runs an Ex command that starts a claw.ask and waits for its response.
---@param ex string  e.g. "Claw ask fix it"
---@param timeout_ms integer?
---@return table { err, result }
function H.ask(ex, timeout_ms)
  local before = #H.events.ask_done
  vim.cmd(ex)
  T.wait(function()
    return #H.events.ask_done > before
  end, 'claw.ask response for: ' .. ex, timeout_ms)
  local done = H.events.ask_done[#H.events.ask_done]
  if done.err then
    T.log('ask error: ', done.err)
  end
  return done
end

--- Waits for a claw/event of a kind (counting only those after `since`).
---@param kind string
---@param since integer?
---@return table
function H.wait_event(kind, since)
  return T.wait(function()
    for index = (since or 0) + 1, #H.events.claw_events do
      if H.events.claw_events[index].kind == kind then
        return H.events.claw_events[index]
      end
    end
  end, 'claw/event ' .. kind)
end

--- Replaces vim.ui.select with a scripted picker; records what it was asked.
---@param choose fun(items: table[], opts: table): any  returns the chosen item (or nil)
---@return table[] asked  { items, prompt, kind } per call
function H.stub_select(choose)
  local asked = {}
  vim.ui.select = function(items, opts, on_choice)
    table.insert(asked, { items = items, prompt = opts.prompt, kind = opts.kind })
    on_choice(choose(items, opts))
  end
  return asked
end

---@param title string
---@return fun(items: table[]): table?
function H.pick_title(title)
  return function(items)
    for _, item in ipairs(items) do
      if type(item) == 'table' and item.title == title or item == title then
        return item
      end
    end
  end
end

return H
