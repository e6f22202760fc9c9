-- The `claw` language server config for vim.lsp.enable('claw') (Neovim >= 0.11).
-- Override any field with vim.lsp.config('claw', { ... }) or configure via vim.g.claw / setup().
return require('claw.config').lsp_config()
