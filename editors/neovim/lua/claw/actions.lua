-- The user-facing operations behind :Claw and the <Plug> mappings.
local chat = require('claw.chat')
local client_mod = require('claw.client')
local config = require('claw.config')
local state = require('claw.state')

local M = {}

M.TIERS = config.TIERS

---@param message string
---@param level integer?
local function notify(message, level)
  vim.notify('claw: ' .. message, level or vim.log.levels.INFO)
end

---@param err table?
---@param what string
---@return boolean failed
local function report_error(err, what)
  if err then
    notify(what .. ' failed: ' .. tostring(err.message or err), vim.log.levels.ERROR)
    return true
  end
  return false
end

--- Converts a byte column on a buffer line to the client's position encoding.
---@param bufnr integer
---@param row integer 0-based
---@param byte_col integer
---@param encoding string
---@return integer
local function character(bufnr, row, byte_col, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  byte_col = math.min(byte_col, #line)
  return vim.str_utfindex(line, encoding, byte_col, false)
end

--- The LSP range of an Ex range: the exact characters for a charwise visual selection made
--- on these lines, whole lines otherwise.
---@param bufnr integer
---@param line1 integer
---@param line2 integer
---@param encoding string
---@return table range
function M.range_for(bufnr, line1, line2, encoding)
  local start_mark = vim.api.nvim_buf_get_mark(bufnr, '<')
  local end_mark = vim.api.nvim_buf_get_mark(bufnr, '>')
  if vim.fn.visualmode() == 'v' and start_mark[1] == line1 and end_mark[1] == line2 then
    local end_line = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
    -- '> points at the first byte of the last character; the LSP end is exclusive.
    local end_col = math.min(end_mark[2], #end_line)
    local last_char_end = end_col + #vim.fn.strpart(end_line, end_col, 1, 1)
    return {
      start = { line = line1 - 1, character = character(bufnr, line1 - 1, start_mark[2], encoding) },
      ['end'] = { line = line2 - 1, character = character(bufnr, line2 - 1, last_char_end, encoding) },
    }
  end
  local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  return {
    start = { line = line1 - 1, character = 0 },
    ['end'] = { line = line2 - 1, character = character(bufnr, line2 - 1, #last, encoding) },
  }
end

---@param client vim.lsp.Client
---@return claw.ClientState
local function client_state(client)
  return state.client(client.id)
end

--- Sends a turn (claw.ask, or `turn.command` such as claw.acceptPlan) and streams it into the
--- conversation: busy, <C-c> cancel, the session and ClawAskDone work the same for both.
---@param client vim.lsp.Client
---@param bufnr integer?
---@param argument table  the command's argument (claw.ask: prompt, uri, range, ...)
---@param on_done fun(err: table?, result: table?)?
---@param turn { command: string, shown: string }?  another turn command, and what the chat shows
function M.send_ask(client, bufnr, argument, on_done, turn)
  local command = turn and turn.command or 'claw.ask'
  local cs = client_state(client)
  argument.folder = argument.folder or client_mod.folder_uri(client, bufnr)
  if bufnr then
    state.last_source_buf = bufnr
  end
  local where = nil
  if argument.uri then
    where = chat.display_path(argument.uri)
    if argument.range then
      where = ('%s:%d-%d'):format(where, argument.range.start.line + 1, argument.range['end'].line + 1)
    end
  end
  chat.begin_turn(turn and turn.shown or argument.prompt, where)
  if config.get().chat.auto_open then
    chat.open()
  end
  cs.busy = true
  if command == 'claw.ask' and state.mode == 'plan' and argument.mode == nil then
    argument.mode = 'plan'
  end
  local token = ('claw-ask-%d'):format(vim.uv.hrtime())
  cs.ask_request = client_mod.exec(client, command, argument, function(err, result)
    cs.ask_request = nil
    cs.busy = false
    if type(result) == 'table' and result.session then
      cs.session = result.session
      cs.turn = result.turn
    end
    -- claw/status already brought the meter; a backend's own count is better than an estimate.
    local usage = type(result) == 'table' and type(result.usage) == 'table' and result.usage or {}
    if type(usage.promptTokens) == 'number' and usage.promptTokens > 0 then
      cs.context_tokens = usage.promptTokens
    end
    chat.finish(err, result)
    pcall(vim.api.nvim_exec_autocmds, 'User', {
      pattern = 'ClawAskDone',
      modeline = false,
      data = { err = err, result = result },
    })
    pcall(vim.cmd.redrawstatus, { bang = true })
    if on_done then
      on_done(err, result)
    end
  end, bufnr, { workDoneToken = token })
end

--- :Claw ask [prompt]; with a range the selection goes along.
---@param opts { prompt: string?, range: integer?, line1: integer?, line2: integer?, session: string?, on_done: function? }?
function M.ask(opts)
  opts = opts or {}
  local bufnr = client_mod.source_buffer()
  local function go(prompt)
    if not prompt or vim.trim(prompt) == '' then
      return
    end
    client_mod.with_client(bufnr, function(client)
      local argument = { prompt = prompt, session = opts.session }
      if bufnr then
        argument.uri = vim.uri_from_bufnr(bufnr)
        if opts.range and opts.range > 0 and opts.line1 and opts.line2 then
          argument.range = M.range_for(bufnr, opts.line1, opts.line2, client.offset_encoding)
        end
      end
      M.send_ask(client, bufnr, argument, opts.on_done)
    end)
  end
  if opts.prompt and vim.trim(opts.prompt) ~= '' then
    go(opts.prompt)
  else
    vim.ui.input({ prompt = 'Ask claw: ' }, go)
  end
end

--- Code actions ("Claw: Fix: ...", "Claw: Explain selection") carry a claw.ask command.
function M.ask_from_code_action(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local argument = command.arguments and command.arguments[1]
  if not client or type(argument) ~= 'table' then
    return
  end
  M.send_ask(client, ctx.bufnr, vim.deepcopy(argument))
end

--- :Claw cancel / <C-c> in the conversation.
function M.cancel()
  local client = client_mod.find(client_mod.source_buffer())
  if not client then
    return
  end
  local cs = client_state(client)
  local argument = cs.session and { session = cs.session } or {}
  client_mod.exec(client, 'claw.cancel', argument, function(err)
    if err and cs.ask_request then
      -- Fall back to the plain LSP cancel of the request in flight.
      client:cancel_request(cs.ask_request)
    end
  end)
  chat.note('… cancelling')
end

--- :Claw undo: reverts the session's last turn across files.
---@param on_done fun(err: table?, result: any)?
function M.undo(on_done)
  client_mod.call('claw.undoTurn', function(client)
    local cs = client_state(client)
    return cs.session and { session = cs.session } or {}
  end, function(err, result)
    if not report_error(err, 'undo') then
      chat.note('↶ undid the last turn')
    end
    if on_done then
      on_done(err, result)
    end
  end)
end

--- :Claw new: a fresh session for this folder.
function M.new_session()
  client_mod.call('claw.newSession', function(client, bufnr)
    return { folder = client_mod.folder_uri(client, bufnr) }
  end, function(err, result, client)
    if report_error(err, 'new session') then
      return
    end
    client_state(client).session = type(result) == 'table' and result.session or nil
    chat.clear()
    chat.note('# New session ' .. tostring(client_state(client).session or ''))
  end)
end

--- :Claw tier [tier]: a user-initiated tier change (the model can never reach this).
---@param tier string?
function M.tier(tier)
  local function set(choice)
    if not choice then
      return
    end
    client_mod.call('claw.setTier', function(client, bufnr)
      return { tier = choice, folder = client_mod.folder_uri(client, bufnr) }
    end, function(err, _, client)
      if not report_error(err, 'set tier') then
        client_state(client).tier = choice
        notify('tier is now ' .. choice)
        pcall(vim.cmd.redrawstatus, { bang = true })
      end
    end)
  end
  if tier and tier ~= '' then
    set(tier)
  else
    vim.ui.select(M.TIERS, { prompt = 'claw tier' }, set)
  end
end

--- :Claw sessions: pick a session, then resume / fork / export / delete it.
function M.sessions()
  client_mod.call('claw.sessions', function(client, bufnr)
    return { folder = client_mod.folder_uri(client, bufnr) }
  end, function(err, result, client)
    if report_error(err, 'sessions') then
      return
    end
    if type(result) ~= 'table' or #result == 0 then
      notify('no sessions yet')
      return
    end
    vim.ui.select(result, {
      prompt = 'claw sessions',
      kind = 'claw_session',
      format_item = function(item)
        return ('%s  (%s turns, %s)'):format(item.title or item.id, item.turns or 0, item.updated or '')
      end,
    }, function(item)
      if item then
        M.session_action(client, item)
      end
    end)
  end)
end

---@param client vim.lsp.Client
---@param item table  a claw.sessions entry
function M.session_action(client, item)
  local cs = client_state(client)
  local handlers = {
    resume = function()
      client_mod.exec(client, 'claw.resumeSession', { session = item.id }, function(err)
        if not report_error(err, 'resume') then
          cs.session = item.id
          chat.note('# Resumed session ' .. item.id)
        end
      end)
    end,
    fork = function()
      client_mod.exec(client, 'claw.forkSession', { session = item.id }, function(err, result)
        if not report_error(err, 'fork') and type(result) == 'table' then
          cs.session = result.session
          chat.note('# Forked ' .. item.id .. ' into ' .. tostring(result.session))
        end
      end)
    end,
    export = function()
      client_mod.exec(client, 'claw.exportSession', { session = item.id }, function(err, result)
        if report_error(err, 'export') or type(result) ~= 'table' then
          return
        end
        local buf = vim.api.nvim_create_buf(true, true)
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(result.markdown or '', '\n'))
        vim.bo[buf].filetype = 'markdown'
        vim.api.nvim_set_current_buf(buf)
      end)
    end,
    delete = function()
      client_mod.exec(client, 'claw.deleteSession', { session = item.id }, function(err)
        if not report_error(err, 'delete') then
          if cs.session == item.id then
            cs.session = nil
          end
          notify('deleted session ' .. item.id)
        end
      end)
    end,
  }
  vim.ui.select({ 'resume', 'fork', 'export', 'delete' }, {
    prompt = 'session ' .. (item.title or item.id),
    kind = 'claw_session_action',
  }, function(choice)
    if choice then
      handlers[choice]()
    end
  end)
end

--- :Claw doctor: the server's report on the backend, in a scratch buffer.
function M.doctor()
  client_mod.call('claw.doctor', {}, function(err, result)
    if report_error(err, 'doctor') then
      return
    end
    local text = type(result) == 'table' and result.text or vim.inspect(result)
    local buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, '\n'))
    vim.bo[buf].bufhidden = 'wipe'
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
    vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, nowait = true })
  end)
end

--- :Claw fix / :Claw actions: claw's code actions at the cursor (or range). Neovim sends each
--- server only its own diagnostics, so pass every diagnostic on the line: claw fixes what
--- other linters report.
---@param opts { only: string[]?, range: integer?, line1: integer?, line2: integer? }?
function M.code_actions(opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local diagnostics = vim.diagnostic.get(bufnr, { lnum = row })
  local request = {
    context = { diagnostics = vim.lsp.diagnostic.from(diagnostics), only = opts.only },
    filter = function(action)
      return vim.startswith(action.title or '', 'Claw:')
    end,
    apply = opts.only ~= nil,
  }
  if opts.range and opts.range > 0 and opts.line1 and opts.line2 then
    local last = vim.api.nvim_buf_get_lines(bufnr, opts.line2 - 1, opts.line2, false)[1] or ''
    request.range = { start = { opts.line1, 0 }, ['end'] = { opts.line2, math.max(#last - 1, 0) } }
  end
  client_mod.with_client(bufnr, function()
    vim.lsp.buf.code_action(request)
  end)
end

function M.accept_from_code_action(command)
  local argument = command.arguments and command.arguments[1]
  if type(argument) == 'table' and argument.proposal then
    require('claw.proposals').accept(argument.proposal)
  end
end

function M.reject_from_code_action(command)
  local argument = command.arguments and command.arguments[1]
  if type(argument) == 'table' and argument.proposal then
    require('claw.proposals').reject(argument.proposal)
  end
end

return M
