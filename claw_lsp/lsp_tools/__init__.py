"""Language intelligence as tools: definition, references, hover, workspace symbols, rename and
diagnostics from the editor's own language servers (through `claw/lsp`) or from servers claw
runs itself (`languageServers`), and the diagnostics delta appended to every edit."""
