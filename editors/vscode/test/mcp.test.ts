import assert from "node:assert/strict";
import { test } from "node:test";
import { promptArguments, promptItems, promptText, serverSummary } from "../src/pure/mcp";

const payload = {
  servers: [
    {
      name: "fx",
      state: "ready",
      tools: 9,
      resources: 1,
      prompts: [{ command: "/mcp__fx__review", usage: "/mcp__fx__review <topic> [lang]", description: "Review" }],
    },
    { name: "down", state: "failed", lastError: "command not found: x", prompts: [] },
    { name: "odd", state: "ready", prompts: [{ command: "help", usage: "help" }] },
  ],
};

test("prompt picker items come from every server's prompts", () => {
  const items = promptItems(payload);
  assert.deepEqual(
    items.map((item) => [item.label, item.detail]),
    [["/mcp__fx__review", "fx: /mcp__fx__review <topic> [lang]"]],
  );
  assert.deepEqual(promptItems(null), []);
});

test("a picked prompt becomes the slash command with the typed arguments", () => {
  const [item] = promptItems(payload);
  assert.deepEqual(promptArguments(item.prompt), ["<topic>", "[lang]"]);
  assert.equal(promptText(item.prompt, '  "the parser" fr '), '/mcp__fx__review "the parser" fr');
  assert.equal(promptText(item.prompt, ""), "/mcp__fx__review");
});

test("server summaries name the state, counts and last error", () => {
  assert.equal(serverSummary(payload.servers[0]), "fx: ready, 9 tools, 1 resources, 1 prompts");
  assert.equal(serverSummary(payload.servers[1]), "down: failed, 0 tools, 0 resources, 0 prompts (command not found: x)");
});
