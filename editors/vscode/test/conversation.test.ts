import assert from "node:assert/strict";
import { test } from "node:test";
import { Conversation, type ClawEvent } from "../src/pure/conversation";

const event = (kind: string, fields: Record<string, unknown> = {}, turn = 1): ClawEvent => ({ session: "s1", turn, kind, ...fields });

test("a local prompt adopts the first server turn and text deltas merge into one assistant item", () => {
  const conversation = new Conversation();
  const local = conversation.startLocalTurn("rename x");
  conversation.apply(event("text", { delta: "Hel" }));
  conversation.apply(event("text", { delta: "lo" }));
  assert.equal(conversation.view.length, 1);
  assert.equal(local.session, "s1");
  assert.deepEqual(local.items, [
    { type: "user", text: "rename x" },
    { type: "assistant", markdown: "Hello" },
  ]);
  assert.equal(conversation.busy, true);
  conversation.apply(event("done", { stopReason: "done" }));
  assert.equal(conversation.busy, false);
  assert.equal(local.stopReason, "done");
});

test("tool calls pair with their results by id; text after a tool starts a new assistant item", () => {
  const conversation = new Conversation();
  conversation.apply(event("text", { delta: "Reading." }));
  conversation.apply(event("toolCall", { id: "c1", name: "read_file", arguments: { path: "demo.py" } }));
  conversation.apply(event("toolCall", { id: "c2", name: "shell", arguments: { command: "ls" } }));
  conversation.apply(event("toolResult", { id: "c2", ok: false, summary: "denied" }));
  conversation.apply(event("toolResult", { id: "c1", ok: true, summary: "12 lines" }));
  conversation.apply(event("text", { delta: "Done." }));
  const items = conversation.view[0].items;
  assert.deepEqual(
    items.map((item) => item.type),
    ["assistant", "tool", "tool", "assistant"],
  );
  const [, first, second] = items;
  assert.ok(first.type === "tool" && first.status === "ok" && first.summary === "12 lines");
  assert.ok(first.type === "tool" && first.argumentsText.includes('"path": "demo.py"'));
  assert.ok(second.type === "tool" && second.status === "failed" && second.summary === "denied");
});

test("events of an unknown turn (a code action) create their own turn; unknown kinds are ignored", () => {
  const conversation = new Conversation();
  conversation.apply(event("text", { delta: "a" }, 1));
  conversation.apply(event("somethingNew", { x: 1 }, 2));
  conversation.apply(event("edit", { uri: "file:///w/demo.py", applied: true }, 2));
  assert.equal(conversation.view.length, 2);
  assert.deepEqual(conversation.view[1].items, [
    { type: "edit", uri: "file:///w/demo.py", applied: true, diffKey: "s1:2:file:///w/demo.py" },
  ]);
});

test("proposals are pending until decided", () => {
  const conversation = new Conversation();
  conversation.apply(event("proposal", { proposal: "p1", uri: "file:///w/a.py", diff: "@@ -1 +1 @@\n-a\n+b\n" }));
  conversation.apply(event("proposal", { proposal: "p2", uri: "file:///w/b.py", diff: "" }));
  assert.deepEqual(
    conversation.pendingProposals().map((p) => p.proposal),
    ["p1", "p2"],
  );
  assert.equal(conversation.setProposalState("p1", "accepted"), true);
  assert.equal(conversation.setProposalState("nope", "accepted"), false);
  assert.deepEqual(
    conversation.pendingProposals().map((p) => p.proposal),
    ["p2"],
  );
});

test("approvals, unsaved files and errors become items", () => {
  const conversation = new Conversation();
  conversation.apply(event("approval", { tool: "shell", decision: "allowOnce", command: "pytest -q" }));
  conversation.apply(event("unsaved", { uris: ["file:///w/a.py", 3] }));
  conversation.apply(event("error", { message: "backend unreachable" }));
  assert.deepEqual(conversation.view[0].items, [
    { type: "approval", tool: "shell", decision: "allowOnce", detail: "pytest -q" },
    { type: "unsaved", uris: ["file:///w/a.py"] },
    { type: "error", message: "backend unreachable" },
  ]);
});

test("the ask result closes a turn that got no events and shows its text (slash commands)", () => {
  const conversation = new Conversation();
  const local = conversation.startLocalTurn("/status");
  conversation.finishAsk(local, { session: "s9", turn: 4, text: "tier: write", stopReason: "local" });
  assert.equal(local.running, false);
  assert.equal(local.stopReason, "local");
  assert.deepEqual(local.items[1], { type: "assistant", markdown: "tier: write" });
  assert.equal(conversation.lastSession, "s9");
});

test("a result after streamed text does not duplicate it, and a cancel without done still ends the turn", () => {
  const conversation = new Conversation();
  const local = conversation.startLocalTurn("go");
  conversation.apply(event("text", { delta: "partial" }));
  conversation.finishAsk(local, { session: "s1", turn: 1, text: "partial", stopReason: "cancelled" });
  assert.equal(local.items.filter((item) => item.type === "assistant").length, 1);
  assert.equal(local.stopReason, "cancelled");
  assert.equal(conversation.busy, false);
});

test("a failed request shows its message as an error", () => {
  const conversation = new Conversation();
  const local = conversation.startLocalTurn("go");
  conversation.failAsk(local, "server not running");
  assert.deepEqual(local.items[1], { type: "error", message: "server not running" });
  assert.equal(local.running, false);
});
