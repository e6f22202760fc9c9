import assert from "node:assert/strict";
import { test } from "node:test";
import { Conversation, type ClawEvent, editDiffKey } from "../src/pure/conversation";
import { inlineDiff } from "../src/pure/inlineDiff";
import { renderMarkdown } from "../src/pure/markdown";
import { renderConversation } from "../src/pure/render";

const options = { folderUris: ["file:///work/ws"] };
const event = (kind: string, fields: Record<string, unknown> = {}): ClawEvent => ({ session: "s", turn: 1, kind, ...fields });

test("code blocks get Copy and Insert at cursor carrying the escaped code", () => {
  const html = renderMarkdown('```python\nprint("<x>")\n```');
  assert.match(html, /data-action="copyCode"[^>]*data-code="print\(&quot;&lt;x&gt;&quot;\)\n"/);
  assert.match(html, /data-action="insertCode"/);
  assert.match(html, /aria-label="Copy code"/);
});

test("an edit shows its inline diff and the finished turn an Undo turn button", () => {
  const conversation = new Conversation();
  conversation.apply(event("edit", { uri: "file:///work/ws/demo.py", applied: true }));
  assert.equal(conversation.setEditDiff(editDiffKey("s", 1, "file:///work/ws/demo.py"), inlineDiff("x = 1\n", "x = 2\n")), true);
  let html = renderConversation(conversation.view, options);
  assert.match(html, /<span class="diff-del">-x = 1<\/span>/);
  assert.match(html, /<span class="diff-add">\+x = 2<\/span>/);
  assert.doesNotMatch(html, /undoTurn/, "no undo while the turn runs");
  conversation.apply(event("done", { stopReason: "done" }));
  html = renderConversation(conversation.view, options);
  assert.match(html, /data-action="undoTurn" data-session="s" data-turn="1"/);
  conversation.markUndone("s", 1);
  html = renderConversation(conversation.view, options);
  assert.doesNotMatch(html, /undoTurn/, "an undone turn cannot be undone twice");
  assert.match(html, /Undone/);
});

test("single newlines are line breaks (local answers are plain lines)", () => {
  assert.match(renderMarkdown("Folder: /ws\nTier: write"), /Folder: \/ws<br>\nTier: write/);
});

test("inlineDiff is empty for no change and has hunk headers otherwise", () => {
  assert.equal(inlineDiff("a\n", "a\n"), "");
  assert.equal(inlineDiff("a\nb\n", "a\nc\n"), "@@ -1,2 +1,2 @@\n a\n-b\n+c");
});

test("todo events become a live checklist (the latest list wins)", () => {
  const conversation = new Conversation();
  conversation.apply(event("todo", { todos: [{ id: "1", content: "Read <code>", status: "pending" }] }));
  conversation.apply(
    event("todo", {
      todos: [
        { id: "1", content: "Read <code>", status: "completed" },
        { id: "2", content: "Fix it", status: "in_progress" },
        { id: "3", content: "Odd", status: "bogus" },
      ],
    }),
  );
  const html = renderConversation(conversation.view, options);
  assert.match(html, /Todo 1\/3/);
  assert.match(html, /class="todo todo-completed"[^>]*>.*Read &lt;code&gt;/);
  assert.match(html, /class="todo todo-in_progress"/);
  assert.match(html, /class="todo todo-pending"[^>]*aria-label="Odd: to do"/, "an unknown status reads as pending");
});

test("a plan offers Accept / Edit / Keep planning until it is settled", () => {
  const conversation = new Conversation();
  conversation.apply(event("plan", { plan: "1. Read\n2. **Change**" }));
  let html = renderConversation(conversation.view, options);
  assert.match(html, /data-action="acceptPlan"[^>]*data-session="s"/);
  assert.match(html, /data-action="editPlan"/);
  assert.match(html, /data-action="keepPlanning"/);
  assert.match(html, /<strong>Change<\/strong>/);
  // The webview's in-place editor finds a proposed plan by its class and keeps it by its key.
  assert.match(html, /class="item plan plan-proposed"[^>]*data-key="[^"]+\/plan\/\d+"/);
  conversation.settlePlans("accepted");
  html = renderConversation(conversation.view, options);
  assert.doesNotMatch(html, /acceptPlan/);
  assert.doesNotMatch(html, /plan-proposed/);
  assert.match(html, /accepted/);
});

test("a plan turn's result shows the plan even without a plan event", () => {
  const conversation = new Conversation();
  const local = conversation.startLocalTurn("plan it");
  conversation.finishAsk(local, { session: "s", turn: 2, stopReason: "plan", plan: "Step one", text: "Step one" });
  const html = renderConversation(conversation.view, options);
  assert.match(html, /Plan ready/);
  assert.equal((html.match(/Step one/g) ?? []).length, 3, "once in the plan text and in two button data attributes");
});

test("subagent events nest under the call that started them and do not end the turn", () => {
  const conversation = new Conversation();
  conversation.apply(event("toolCall", { id: "c1", name: "task", arguments: { prompt: "look" } }));
  const parent = { session: "s", turn: 1, callId: "c1" };
  conversation.apply({ session: "sub", turn: 1, kind: "toolCall", id: "k", name: "grep", arguments: {}, parent } as ClawEvent);
  conversation.apply({ session: "s", turn: 1, kind: "text", delta: "sub says hi", parent } as ClawEvent);
  conversation.apply({ session: "s", turn: 1, kind: "done", stopReason: "done", parent } as ClawEvent);
  assert.equal(conversation.busy, true);
  const html = renderConversation(conversation.view, options);
  assert.match(html, /<details class="item tool tool-running"[^>]*>.*<div class="subagent"[^>]*>.*grep.*sub says hi/s);
});

test("errors are banners with the doctor's advice; attachments are listed", () => {
  const conversation = new Conversation();
  conversation.apply(event("attachment", { type: "file", name: "README.md", chars: 120 }));
  conversation.apply(event("error", { message: "backend <down>" }));
  const html = renderConversation(conversation.view, options);
  assert.match(html, /role="alert"[^>]*>.*backend &lt;down&gt;.*Claw: Doctor/s);
  assert.match(html, /Attached file <code>README\.md<\/code> \(120 chars\)/);
});
