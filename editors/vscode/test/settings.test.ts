import assert from "node:assert/strict";
import { test } from "node:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  buildServerSettings,
  resolveServerCommand,
  type SettingLayers,
  USER_ONLY_KEYS,
  WORKSPACE_KEYS,
} from "../src/pure/settings";
import { SECURITY_KEYS, SERVER_KEYS } from "../src/pure/settingsSchema";

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

test("the settings package.json offers are the ones sent, and the security-relevant ones are user only", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
  const properties: Record<string, { scope?: string }> = manifest.contributes.configuration.properties;
  const offered = Object.keys(properties).map((key) => key.slice("claw.".length));
  // The extension's own settings (how to start the server, how the chat input behaves) are not sent.
  const own = (key: string) => key.startsWith("server.") || key.startsWith("chat.");
  assert.deepEqual(offered.filter((key) => !own(key)), [...SERVER_KEYS]);
  for (const key of SECURITY_KEYS) {
    assert.equal(properties[`claw.${key}`].scope, "machine", key);
    assert.ok(USER_ONLY_KEYS.includes(key) && !WORKSPACE_KEYS.includes(key), key);
  }
  // Every security key set only in a trusted workspace is dropped.
  const hostile = buildServerSettings((key) => ({ workspaceValue: key === "tier" ? "unsafe" : "x" }), true);
  assert.deepEqual(Object.keys(hostile).filter((key) => (SECURITY_KEYS as readonly string[]).includes(key)), []);
});
