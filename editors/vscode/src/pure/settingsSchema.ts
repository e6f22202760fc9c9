// Generated from claw_lsp/config/schema.py by `python -m claw_lsp.config.generate --write`: do not edit.

/** Server settings the extension offers and sends, in the schema's order. */
export const SERVER_KEYS = [
  "baseUrl",
  "model",
  "requestTimeout",
  "contextWindow",
  "compactThreshold",
  "toolMode",
  "textToolCalls",
  "emptyStreamRetry",
  "tier",
  "approvals",
  "approvalPrompt",
  "approvalTimeout",
  "permissions",
  "protectedPaths",
  "network",
  "allowUnsandboxed",
  "shellTimeoutMax",
  "envPassthrough",
  "editMode",
  "maxTurns",
  "maxToolCalls",
  "clientRequestTimeout",
  "stateDir",
  "languageServers",
  "diagnosticsWait",
  "mcpServers",
  "mcpTimeout",
  "mcpSchemaBudget",
  "subagentMaxTurns",
  "subagentDepth",
  "subagentParallel",
] as const;

/** Security-relevant: only the user's own settings may set these. */
export const SECURITY_KEYS = [
  "baseUrl",
  "tier",
  "approvals",
  "permissions",
  "protectedPaths",
  "network",
  "allowUnsandboxed",
  "shellTimeoutMax",
  "envPassthrough",
  "stateDir",
  "languageServers",
  "mcpServers",
] as const;

/** The allowed values of the settings that have a fixed set. */
export const ENUMS: Record<string, readonly string[]> = {
  "toolMode": [
    "native",
    "text",
    "auto"
  ],
  "tier": [
    "read-only",
    "write",
    "shell",
    "unsafe"
  ],
  "approvals": [
    "ask",
    "deny"
  ],
  "approvalPrompt": [
    "auto",
    "dialog",
    "diagnostic"
  ],
  "editMode": [
    "apply",
    "propose"
  ]
};

/** Bounds of the numeric settings (the server rejects values outside them). */
export const BOUNDS: Record<string, { minimum?: number; maximum?: number }> = {
  "requestTimeout": {
    "minimum": 1,
    "maximum": 3600
  },
  "contextWindow": {
    "minimum": 512,
    "maximum": 10000000
  },
  "compactThreshold": {
    "minimum": 0.1,
    "maximum": 1.0
  },
  "approvalTimeout": {
    "minimum": 1,
    "maximum": 3600
  },
  "shellTimeoutMax": {
    "minimum": 1,
    "maximum": 3600
  },
  "maxTurns": {
    "minimum": 1,
    "maximum": 500
  },
  "maxToolCalls": {
    "minimum": 1,
    "maximum": 10000
  },
  "clientRequestTimeout": {
    "minimum": 0.5,
    "maximum": 3600
  },
  "diagnosticsWait": {
    "minimum": 0,
    "maximum": 30
  },
  "mcpTimeout": {
    "minimum": 1,
    "maximum": 3600
  },
  "mcpSchemaBudget": {
    "minimum": 0,
    "maximum": 10000000
  },
  "subagentMaxTurns": {
    "minimum": 1,
    "maximum": 200
  },
  "subagentDepth": {
    "minimum": 0,
    "maximum": 3
  },
  "subagentParallel": {
    "minimum": 1,
    "maximum": 16
  }
};
