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

--- A statusline component: "" when no claw client runs, else e.g. "claw:write plan ● 12k/32k ◆2"
--- (tier, plan mode, busy, context used of the window, pending proposals).
---@return string
function M.status()
  return require('claw.pickers').status()
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
