-- A user's Neovim for the tmux-driven screen test (test_tmux.py): the plugin on the
-- runtimepath, claw-lsp from $CLAW_LSP, a statusline with claw's component, the chat open
-- below the file with the cursor in it.
vim.opt.runtimepath:prepend(assert(os.getenv('CLAW_PLUGIN_DIR')))
vim.g.claw = {
  cmd = { assert(os.getenv('CLAW_LSP')) },
  server = { tier = 'write' },
  chat = { layout = 'split', size = 0.6 },
}
vim.o.swapfile = false
vim.o.laststatus = 2
vim.o.completeopt = 'menuone'
vim.o.statusline = "%f %= %{v:lua.require'claw'.status()} "
vim.cmd('filetype on')
vim.cmd.runtime('plugin/claw.lua')
vim.api.nvim_create_autocmd('VimEnter', {
  callback = function()
    require('claw.chat').open({ focus = true })
  end,
})
