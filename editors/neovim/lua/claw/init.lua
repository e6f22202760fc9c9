-- claw.nvim: a coding agent (claw-lsp) inside Neovim. Public API.
local M = {}

--- Optional: configure the plugin (same keys as vim.g.claw). Nothing is required to start.
---@param opts table?
function M.setup(opts)
  local config = require('claw.config')
  config.set(opts)
  -- Re-register so clients started from now on see the new settings.
  vim.lsp.config('claw', config.lsp_config())
  vim.lsp.enable('claw', config.get().autostart ~= false)
end

--- A short statusline component: "" when no claw client runs, else e.g. "claw:write ● ◆2".
---@return string
function M.status()
  local client = require('claw.client').find(vim.api.nvim_get_current_buf())
  if not client then
    return ''
  end
  local state = require('claw.state')
  local client_state = state.by_client[client.id] or {}
  local parts = { 'claw' .. (client_state.tier and (':' .. client_state.tier) or '') }
  if client_state.busy then
    parts[#parts + 1] = '●'
  end
  local pending = #state.proposal_order
  if pending > 0 then
    parts[#parts + 1] = '◆' .. pending
  end
  return table.concat(parts, ' ')
end

---@param opts table?  { prompt?, range?, line1?, line2?, session?, on_done? }
function M.ask(opts)
  require('claw.actions').ask(opts)
end

function M.cancel()
  require('claw.actions').cancel()
end

function M.undo()
  require('claw.actions').undo()
end

function M.open()
  require('claw.chat').open({ focus = true })
end

function M.toggle()
  require('claw.chat').toggle()
end

return M
