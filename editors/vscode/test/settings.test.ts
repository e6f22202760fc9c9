import assert from "node:assert/strict";
import { test } from "node:test";
import { buildServerSettings, resolveServerCommand, type SettingLayers } from "../src/pure/settings";

const layers = (table: Record<string, SettingLayers>) => (key: string) => table[key];

test("security keys come from user settings only, even in a trusted workspace", () => {
  const settings = buildServerSettings(
    layers({
      tier: { defaultValue: "read-only", globalValue: "write", workspaceValue: "unsafe" },
      baseUrl: { workspaceValue: "http://evil.example/v1" },
      approvals: { workspaceFolderValue: "ask", globalValue: "deny" },
      stateDir: { workspaceValue: "/tmp/steal" },
      model: { globalValue: "m-user", workspaceValue: "m-project" },
      editMode: { workspaceFolderValue: "propose" },
    }),
    true,
  );
  assert.deepEqual(settings, { tier: "write", approvals: "deny", model: "m-project", editMode: "propose" });
});

test("mcpServers come from user settings only; an empty object is not sent", () => {
  const servers = { github: { command: "npx", args: ["-y", "@modelcontextprotocol/server-github"] } };
  const settings = buildServerSettings(
    layers({
      mcpServers: { defaultValue: {}, globalValue: servers, workspaceValue: { evil: { command: "curl" } } },
      mcpTimeout: { globalValue: 30, workspaceValue: 90 },
    }),
    true,
  );
  assert.deepEqual(settings, { mcpServers: servers, mcpTimeout: 90 });
  const unset = buildServerSettings(layers({ mcpServers: { defaultValue: {}, globalValue: {} } }), true);
  assert.deepEqual(unset, {});
});

test("an untrusted workspace cannot override anything", () => {
  const settings = buildServerSettings(
    layers({ model: { globalValue: "m-user", workspaceValue: "m-project" }, maxTurns: { workspaceValue: 999 } }),
    false,
  );
  assert.deepEqual(settings, { model: "m-user" });
});

test("defaults, empty strings and invalid enum values are not sent (the server decides)", () => {
  const settings = buildServerSettings(
    layers({
      tier: { defaultValue: "read-only", globalValue: "root" },
      baseUrl: { defaultValue: "", globalValue: "  " },
      requestTimeout: { globalValue: 30 },
      maxTurns: { globalValue: -1 },
    }),
    true,
  );
  assert.deepEqual(settings, { requestTimeout: 30 });
});

test("apiKey is never forwarded from settings", () => {
  const settings = buildServerSettings(layers({ apiKey: { globalValue: "sk-secret" } }), true);
  assert.equal("apiKey" in settings, false);
});

const environment = (executables: string[]) => ({
  pathVariable: "/usr/bin:/opt/venv/bin",
  pathSeparator: ":",
  isExecutable: (file: string) => executables.includes(file),
});

test("finds claw-lsp on PATH, an absolute path, or runs a configured Python with -m claw_lsp", () => {
  assert.deepEqual(resolveServerCommand(undefined, undefined, environment(["/opt/venv/bin/claw-lsp"])), {
    ok: true,
    server: { command: "/opt/venv/bin/claw-lsp", args: [] },
  });
  assert.deepEqual(resolveServerCommand("/x/claw-lsp", "", environment(["/x/claw-lsp"])), {
    ok: true,
    server: { command: "/x/claw-lsp", args: [] },
  });
  assert.deepEqual(resolveServerCommand("claw-lsp", "python3", environment(["/usr/bin/python3"])), {
    ok: true,
    server: { command: "/usr/bin/python3", args: ["-m", "claw_lsp"] },
  });
});

test("a missing server gives a message that says how to fix it", () => {
  const missing = resolveServerCommand(undefined, undefined, environment([]));
  assert.equal(missing.ok, false);
  assert.ok(!missing.ok && /"claw-lsp" was not found/.test(missing.message) && /pipx install \.\/claw_lsp/.test(missing.message));
  assert.ok(!missing.ok && /claw\.server\.path/.test(missing.message));
  const badPython = resolveServerCommand(undefined, "/nope/python", environment([]));
  assert.ok(!badPython.ok && /claw\.server\.pythonPath/.test(badPython.message));
});
