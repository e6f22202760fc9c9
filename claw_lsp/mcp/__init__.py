"""MCP servers as a tool source: tools, resources and prompts of the user's MCP servers, behind
the same orchestrator, tiers and approvals as every built-in tool (the official mcp SDK's
client does the protocol)."""
