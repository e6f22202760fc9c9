-- :Claw {subcommand} [args]: dispatch and completion.
local M = {}

local function actions()
  return require('claw.actions')
end

local function proposals()
  return require('claw.proposals')
end

--- Accept/reject/diff act on the given id or on the proposal the cursor points at.
---@param verb 'accept'|'reject'|'show_diff'
---@return fun(args: string[])
local function on_proposal(verb)
  return function(args)
    if args[1] then
      proposals()[verb](args[1])
    else
      proposals().pick(proposals()[verb])
    end
  end
end

---@type table<string, { run: fun(args: string[], opts: table), complete: (fun(): string[])? }>
M.subcommands = {
  ask = {
    run = function(args, opts)
      actions().ask({
        prompt = table.concat(args, ' '),
        range = opts.range,
        line1 = opts.line1,
        line2 = opts.line2,
      })
    end,
  },
  cancel = { run = function() actions().cancel() end },
  undo = { run = function() actions().undo() end },
  sessions = { run = function() actions().sessions() end },
  todos = { run = function() require('claw.todos').quickfix() end },
  new = { run = function() actions().new_session() end },
  tier = {
    run = function(args) actions().tier(args[1]) end,
    complete = function() return require('claw.config').TIERS end,
  },
  model = { run = function(args) require('claw.pickers').model(args[1]) end },
  commands = { run = function() require('claw.pickers').commands() end },
  mode = {
    run = function(args) require('claw.pickers').mode(args[1]) end,
    complete = function() return require('claw.pickers').MODES end,
  },
  plan = {
    run = function() require('claw.pickers').accept_plan() end,
    complete = function() return { 'accept' } end,
  },
  accept = { run = on_proposal('accept') },
  reject = { run = on_proposal('reject') },
  diff = { run = on_proposal('show_diff') },
  fix = { run = function() actions().code_actions({ only = { 'quickfix' } }) end },
  actions = {
    run = function(_, opts)
      actions().code_actions({ range = opts.range, line1 = opts.line1, line2 = opts.line2 })
    end,
  },
  doctor = { run = function() actions().doctor() end },
  prompt = {
    run = function(args) require('claw.mcp').prompt(args) end,
    complete = function() return require('claw.mcp').complete() end,
  },
  mcp = { run = function() require('claw.mcp').servers() end },
  open = { run = function() require('claw.chat').open({ focus = true }) end },
  close = { run = function() require('claw.chat').close() end },
  toggle = { run = function() require('claw.chat').toggle() end },
}

---@param opts table  nvim_create_user_command callback argument
function M.run(opts)
  local args = vim.deepcopy(opts.fargs)
  local name = table.remove(args, 1) or 'ask'
  local sub = M.subcommands[name]
  if not sub then
    vim.notify('claw: unknown subcommand ' .. name, vim.log.levels.ERROR)
    return
  end
  sub.run(args, opts)
end

---@param arg_lead string
---@param cmdline string
---@return string[]
function M.complete(arg_lead, cmdline)
  local words = vim.split(cmdline:gsub('^%A*', ''), '%s+', { trimempty = true })
  local finished = cmdline:match('%s$') ~= nil
  local depth = #words + (finished and 1 or 0)
  local candidates = {}
  if depth <= 2 then
    candidates = vim.tbl_keys(M.subcommands)
    table.sort(candidates)
  elseif depth == 3 then
    local sub = M.subcommands[words[2]]
    candidates = sub and sub.complete and sub.complete() or {}
  end
  return vim.tbl_filter(function(item)
    return vim.startswith(item, arg_lead)
  end, candidates)
end

return M
