-- claw.nvim entry point: one :Claw command, <Plug> mappings, LSP auto-start. Everything else
-- loads on first use.
if vim.g.loaded_claw or vim.fn.has('nvim-0.11') ~= 1 then
  return
end
vim.g.loaded_claw = true

vim.api.nvim_create_user_command('Claw', function(opts)
  require('claw.commands').run(opts)
end, {
  nargs = '*',
  range = true,
  desc = 'claw agent: ask, cancel, undo, sessions, new, tier, accept, reject, diff, doctor, prompt, mcp, open',
  complete = function(arg_lead, cmdline)
    return require('claw.commands').complete(arg_lead, cmdline)
  end,
})

local function plug(lhs, rhs, modes, desc)
  vim.keymap.set(modes or 'n', '<Plug>(' .. lhs .. ')', rhs, { desc = desc, silent = true })
end
plug('claw-ask', '<cmd>Claw ask<cr>', 'n', 'Ask claw')
plug('claw-ask-selection', ':Claw ask<cr>', 'x', 'Ask claw about the selection')
plug('claw-cancel', '<cmd>Claw cancel<cr>', 'n', 'Cancel the claw turn')
plug('claw-undo', '<cmd>Claw undo<cr>', 'n', 'Undo the last claw turn')
plug('claw-accept', '<cmd>Claw accept<cr>', 'n', 'Accept the claw proposal')
plug('claw-reject', '<cmd>Claw reject<cr>', 'n', 'Reject the claw proposal')
plug('claw-toggle', '<cmd>Claw toggle<cr>', 'n', 'Toggle the claw conversation')

local user = type(vim.g.claw) == 'table' and vim.g.claw or {}
if user.autostart ~= false then
  vim.lsp.enable('claw')
end
