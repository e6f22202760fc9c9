// The MCP prompts the server offers (claw.mcpServers), as picker items and as the slash
// command a pick turns into.

export interface McpPrompt {
  command: string; // "/mcp__server__prompt"
  usage: string; // "/mcp__server__prompt <topic> [lang]"
  description?: string;
}

export interface McpServerRow {
  name: string;
  state: string;
  transport?: string;
  target?: string;
  tools?: number;
  resources?: number;
  prompts?: McpPrompt[];
  lastError?: string | null;
}

export interface McpServersPayload {
  servers?: McpServerRow[];
}

export interface PromptItem {
  label: string;
  description: string;
  detail: string;
  prompt: McpPrompt;
}

/** One item per prompt of every running server, in the server's (name) order. */
export function promptItems(payload: McpServersPayload | null | undefined): PromptItem[] {
  const items: PromptItem[] = [];
  for (const server of payload?.servers ?? []) {
    for (const prompt of server.prompts ?? []) {
      if (typeof prompt?.command !== "string" || !prompt.command.startsWith("/mcp__")) continue;
      items.push({
        label: prompt.command,
        description: prompt.description ?? "",
        detail: `${server.name}: ${prompt.usage ?? prompt.command}`,
        prompt,
      });
    }
  }
  return items;
}

/** The argument names a prompt's usage line declares, e.g. ["<topic>", "[lang]"]. */
export function promptArguments(prompt: McpPrompt): string[] {
  return (prompt.usage ?? "").split(/\s+/).slice(1).filter(Boolean);
}

/** What is sent as the ask: the command, then the arguments as the user typed them. */
export function promptText(prompt: McpPrompt, args: string): string {
  const rest = args.trim();
  return rest ? `${prompt.command} ${rest}` : prompt.command;
}

/** One line per server for a quick overview. */
export function serverSummary(row: McpServerRow): string {
  const counts = `${row.tools ?? 0} tools, ${row.resources ?? 0} resources, ${(row.prompts ?? []).length} prompts`;
  const error = row.lastError ? ` (${row.lastError})` : "";
  return `${row.name}: ${row.state}, ${counts}${error}`;
}
