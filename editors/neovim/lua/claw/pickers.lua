-- :Claw model, :Claw mode and the plan decision: the chat pane's switches, through vim.ui.select
-- (the user's picker: telescope, fzf-lua, snacks or the built-in list).
local client_mod = require('claw.client')
local state = require('claw.state')

local M = {}

M.MODES = { 'ask', 'plan' }

--- :Claw model [name]: picks from the backend's models (claw.models) and switches with /model.
---@param name string?
function M.model(name)
  local function switch(choice)
    if choice and choice ~= '' then
      require('claw.actions').ask({ prompt = '/model ' .. choice })
    end
  end
  if name and name ~= '' then
    return switch(name)
  end
  client_mod.call('claw.models', {}, function(err, result)
    local models = type(result) == 'table' and type(result.models) == 'table' and result.models or {}
    if err or #models == 0 then
      -- A server or backend that cannot list its models: ask for the name instead.
      vim.ui.input({ prompt = 'claw model: ' }, switch)
      return
    end
    vim.ui.select(models, {
      prompt = 'claw model',
      format_item = function(item)
        return item == result.current and (item .. '  (current)') or item
      end,
    }, switch)
  end)
end

--- :Claw commands: every slash command of the folder (claw.commands: built-in, user, workspace,
--- skills, MCP prompts) in vim.ui.select; the pick starts the chat draft, to add arguments and send.
function M.commands()
  client_mod.call('claw.commands', function(client, bufnr)
    return { folder = client_mod.folder_uri(client, bufnr) }
  end, function(err, result)
    if err or type(result) ~= 'table' or #result == 0 then
      vim.notify('claw: no commands' .. (err and (': ' .. tostring(err.message or err)) or ''), vim.log.levels.WARN)
      return
    end
    local function text(value)
      return type(value) == 'string' and value or ''
    end
    vim.ui.select(result, {
      prompt = 'claw command',
      kind = 'claw_command',
      format_item = function(item)
        local hint = text(item.argumentHint)
        return ('/%s%s  %s [%s]'):format(item.name, hint ~= '' and (' ' .. hint) or '', text(item.description), text(item.source))
      end,
    }, function(choice)
      if not choice then
        return
      end
      local chat = require('claw.chat')
      chat.set_draft('/' .. choice.name .. ' ')
      chat.open({ focus = true })
      vim.cmd.startinsert({ bang = true })
    end)
  end)
end

--- :Claw mode [ask|plan]: plan mode asks for a plan to accept before any change is made.
---@param mode string?
function M.mode(mode)
  local function set(choice)
    if choice == 'ask' or choice == 'plan' then
      state.mode = choice
      vim.notify('claw: mode is now ' .. choice)
      pcall(vim.cmd.redrawstatus, { bang = true })
    end
  end
  if mode and mode ~= '' then
    set(mode)
  else
    vim.ui.select(M.MODES, { prompt = 'claw mode' }, set)
  end
end

--- Accepts the plan shown in the conversation: claw.acceptPlan starts the turn that carries it out.
function M.accept_plan()
  local render = require('claw.chat_render')
  local pending = render.pending_plan
  if not pending then
    vim.notify('claw: there is no plan to accept', vim.log.levels.WARN)
    return
  end
  local bufnr = client_mod.source_buffer()
  client_mod.with_client(bufnr, function(client)
    local cs = state.client(client.id)
    if cs.busy then
      vim.notify('claw: a turn is still running (<C-c> cancels it)', vim.log.levels.WARN)
      return
    end
    render.pending_plan = nil
    state.mode = 'ask'
    -- The accepted turn is a turn like an ask: busy, cancellable, its session the current one.
    local argument = { session = pending.session, plan = pending.plan }
    require('claw.actions').send_ask(client, bufnr, argument, nil, {
      command = 'claw.acceptPlan',
      shown = '(accepted the plan)',
    })
  end)
end

--- A statusline component: "claw:write plan ● 12k/32k ◆2" ("" when no claw client runs).
---@return string
function M.status()
  local client = client_mod.find(vim.api.nvim_get_current_buf())
  if not client then
    return ''
  end
  local cs = state.by_client[client.id] or {}
  local parts = { 'claw' .. (cs.tier and (':' .. cs.tier) or '') }
  if state.mode == 'plan' then
    parts[#parts + 1] = 'plan'
  end
  if cs.busy then
    parts[#parts + 1] = '●'
  end
  local used, window = cs.context_tokens, cs.context_window
  if type(used) == 'number' and type(window) == 'number' and window > 0 then
    local function k(n)
      return n >= 1000 and ('%.0fk'):format(n / 1000) or tostring(n)
    end
    parts[#parts + 1] = ('%s/%s'):format(k(used), k(window))
  end
  local pending = #state.proposal_order
  if pending > 0 then
    parts[#parts + 1] = '◆' .. pending
  end
  return table.concat(parts, ' ')
end

return M
