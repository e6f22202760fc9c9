// Which `claw.*` settings reach the server, and from where.
// SECURITY.md rule 2: workspace files are never an authority for the tier, approvals, the
// backend URL, the state directory or the server executable. Those are read from the user's own
// settings only, whatever the workspace's `.vscode/settings.json` says and whether or not the
// workspace is trusted. The API key is never a setting at all (environment or SecretStorage).

import { BOUNDS, ENUMS, SECURITY_KEYS, SERVER_KEYS } from "./settingsSchema";

export interface SettingLayers {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export type InspectSetting = (key: string) => SettingLayers | undefined;

// The key lists come from the server's options schema (claw_lsp/config/schema.py), generated
// into settingsSchema.ts with package.json's settings: a new server setting needs nothing here.
export { SERVER_KEYS };

/** Keys (under `claw.`) that only the user's settings may set: the schema's security-relevant
 * keys, and which program the extension starts. */
export const USER_ONLY_KEYS: readonly string[] = [...SECURITY_KEYS, "server.path", "server.pythonPath"];
/** Keys a trusted workspace may override (per project model, review style, limits). */
export const WORKSPACE_KEYS: readonly string[] = SERVER_KEYS.filter((key) => !USER_ONLY_KEYS.includes(key));

export const TIERS = ENUMS.tier as readonly ("read-only" | "write" | "shell" | "unsafe")[];

function isUsable(key: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === "object" && !Array.isArray(value)) {
    // Tables such as mcpServers (`{NAME: {command, args, env} | {type: "http", url}}`): empty means unset.
    return Object.keys(value).length > 0;
  }
  if (typeof value === "string" && value.trim() === "") return false;
  if (typeof value === "number") {
    const bounds = BOUNDS[key] ?? {};
    if (!Number.isFinite(value)) return false;
    if (bounds.minimum !== undefined && value < bounds.minimum) return false;
    if (bounds.maximum !== undefined && value > bounds.maximum) return false;
  }
  const allowed = ENUMS[key];
  return allowed === undefined || (typeof value === "string" && allowed.includes(value));
}

/** The effective value of one key, honouring where it may come from. Unset means "let the server decide". */
export function effectiveSetting(key: string, layers: SettingLayers | undefined, workspaceTrusted: boolean): unknown {
  if (!layers) return undefined;
  const candidates: unknown[] = [];
  const workspaceMayOverride = workspaceTrusted && WORKSPACE_KEYS.includes(key);
  if (workspaceMayOverride) candidates.push(layers.workspaceFolderValue, layers.workspaceValue);
  candidates.push(layers.globalValue);
  return candidates.find((value) => isUsable(key, value));
}

/** The `claw` configuration object the server receives. Only explicitly set keys are present. */
export function buildServerSettings(inspect: InspectSetting, workspaceTrusted: boolean): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const key of SERVER_KEYS) {
    const value = effectiveSetting(key, inspect(key), workspaceTrusted);
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

export interface ServerCommand {
  command: string;
  args: string[];
}

export type ServerResolution = { ok: true; server: ServerCommand } | { ok: false; message: string };

export interface ResolveEnvironment {
  pathVariable: string;
  pathSeparator: string;
  isExecutable: (path: string) => boolean;
}

const INSTALL_HINT =
  'Install it from your claw_lsp checkout with "pipx install ./claw_lsp" (or run scripts/quickstart.sh there, which makes .venv/bin/claw-lsp), ' +
  'or set "claw.server.path" to the claw-lsp executable, or "claw.server.pythonPath" to a Python that has claw_lsp installed.';

/** Finds the server executable: `claw.server.pythonPath -m claw_lsp` when set, else `claw.server.path` (default `claw-lsp` on PATH). */
export function resolveServerCommand(
  serverPath: string | undefined,
  pythonPath: string | undefined,
  environment: ResolveEnvironment,
): ServerResolution {
  const lookup = (program: string): string | undefined => {
    if (program.includes("/") || program.includes("\\")) return environment.isExecutable(program) ? program : undefined;
    for (const directory of environment.pathVariable.split(environment.pathSeparator)) {
      if (!directory) continue;
      const candidate = `${directory.replace(/[\\/]+$/, "")}/${program}`;
      if (environment.isExecutable(candidate)) return candidate;
    }
    return undefined;
  };
  const python = pythonPath?.trim();
  if (python) {
    const found = lookup(python);
    if (found) return { ok: true, server: { command: found, args: ["-m", "claw_lsp"] } };
    return { ok: false, message: `Claw: the Python interpreter "${python}" (claw.server.pythonPath) was not found. ${INSTALL_HINT}` };
  }
  const program = serverPath?.trim() || "claw-lsp";
  const found = lookup(program);
  if (found) return { ok: true, server: { command: found, args: [] } };
  return { ok: false, message: `Claw: the language server "${program}" was not found. ${INSTALL_HINT}` };
}
