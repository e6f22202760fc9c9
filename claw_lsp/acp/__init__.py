"""`claw-lsp acp`: the agent behind the Agent Client Protocol (Zed, JetBrains, CodeCompanion,
avante), a front door like the LSP server and the CLI. The official `agent-client-protocol`
SDK speaks the protocol; this package only translates it onto the agent core (docs/acp.md)."""
