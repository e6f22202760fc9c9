// MCP surfaces in VS Code: a picker for the servers' prompts (they run as /mcp__server__prompt
// slash commands through claw.ask), and an overview of the servers in the Claw output.
import * as vscode from "vscode";
import type { ClawClient } from "./client";
import { type McpServersPayload, promptArguments, promptItems, promptText, serverSummary } from "./pure/mcp";

async function fetchServers(client: ClawClient): Promise<McpServersPayload> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "Claw: starting the MCP servers…" },
    () => client.execute<McpServersPayload>("claw.mcpServers", { start: true }),
  );
}

/** Lets the user pick a prompt and type its arguments; returns the prompt to ask, if any. */
export async function pickMcpPrompt(client: ClawClient): Promise<string | undefined> {
  const items = promptItems(await fetchServers(client));
  if (items.length === 0) {
    void vscode.window.showInformationMessage("Claw: no MCP server offers prompts (see Claw: Show MCP Servers).");
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title: "Claw: MCP Prompts", placeHolder: "Pick a prompt" });
  if (!picked) return undefined;
  const names = promptArguments(picked.prompt);
  let args = "";
  if (names.length > 0) {
    const typed = await vscode.window.showInputBox({
      title: picked.prompt.usage,
      prompt: `Arguments: ${names.join(" ")} (name=value also works; quote words that belong together)`,
      ignoreFocusOut: true,
    });
    if (typed === undefined) return undefined;
    args = typed;
  }
  return promptText(picked.prompt, args);
}

export async function showMcpServers(client: ClawClient, output: vscode.LogOutputChannel): Promise<void> {
  const payload = await fetchServers(client);
  output.appendLine("── Claw MCP servers ──");
  const rows = payload.servers ?? [];
  if (rows.length === 0) output.appendLine('No MCP servers. Set "claw.mcpServers" in your user settings.');
  for (const row of rows) output.appendLine(serverSummary(row));
  output.show(true);
}
