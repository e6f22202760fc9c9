import assert from "node:assert/strict";
import { test } from "node:test";
import {
  completionTokenAt,
  composePrompt,
  filterCommands,
  keySends,
  mentionItems,
  pasteBecomesChip,
  pasteChip,
  PromptHistory,
  removeToken,
  replaceToken,
} from "../src/pure/composer";
import { contextMeter, offeredTiers } from "../src/pure/toolbar";

test("a slash command completes only at the start of the prompt", () => {
  assert.deepEqual(completionTokenAt("/he", 3), { trigger: "/", query: "he", start: 0, end: 3 });
  assert.deepEqual(completionTokenAt("/frontend:rev", 13)?.query, "frontend:rev");
  assert.equal(completionTokenAt("see /tmp/x", 10), undefined);
  assert.equal(completionTokenAt("/help me", 8), undefined, "the command is already complete once a space follows");
});

test("an @ mention completes after a space or at the start, not inside an e-mail address", () => {
  assert.deepEqual(completionTokenAt("explain @src/ma", 15), { trigger: "@", query: "src/ma", start: 8, end: 15 });
  assert.deepEqual(completionTokenAt("@", 1), { trigger: "@", query: "", start: 0, end: 1 });
  assert.equal(completionTokenAt("mail me@example.com", 19), undefined);
  // The caret decides: text after it is not part of the token.
  assert.deepEqual(completionTokenAt("a @de rest", 5)?.query, "de");
});

test("accepting a command replaces the token and adds one space", () => {
  const token = completionTokenAt("/he", 3)!;
  assert.deepEqual(replaceToken("/he", token, "/help"), { text: "/help ", caret: 6 });
  const inner = completionTokenAt("/he world", 3)!;
  assert.deepEqual(replaceToken("/he world", inner, "/help"), { text: "/help world", caret: 5 });
  const dir = completionTokenAt("look @sr", 8)!;
  assert.deepEqual(replaceToken("look @sr", dir, "@src/"), { text: "look @src/", caret: 10 }, "a directory keeps completing");
});

test("an accepted mention leaves the text (it becomes a chip)", () => {
  const token = completionTokenAt("explain @dem please", 12)!;
  assert.deepEqual(removeToken("explain @dem please", token), { text: "explain please", caret: 8 });
});

test("Enter sends unless Shift is held; the ctrlEnter setting inverts it", () => {
  const key = (over: Partial<Parameters<typeof keySends>[0]>) => ({ key: "Enter", shiftKey: false, ctrlKey: false, metaKey: false, ...over });
  assert.equal(keySends(key({}), "enter"), true);
  assert.equal(keySends(key({ shiftKey: true }), "enter"), false);
  assert.equal(keySends(key({ isComposing: true }), "enter"), false, "an IME composition is not a send");
  assert.equal(keySends(key({ key: "a" }), "enter"), false);
  assert.equal(keySends(key({}), "ctrlEnter"), false);
  assert.equal(keySends(key({ ctrlKey: true }), "ctrlEnter"), true);
  assert.equal(keySends(key({ metaKey: true }), "ctrlEnter"), true);
});

test("large pastes become chips, small ones stay text", () => {
  assert.equal(pasteBecomesChip("short"), false);
  assert.equal(pasteBecomesChip("x".repeat(2001)), true);
  assert.equal(pasteBecomesChip("line\n".repeat(40)), true);
  assert.equal(pasteChip("a\nb\nc").label, "Pasted text (3 lines)");
});

test("chips become mentions, @selection and fenced blocks in the prompt", () => {
  const composed = composePrompt("  Explain this  ", [
    { kind: "mention", name: "README.md", label: "@README.md" },
    { kind: "selection", label: "demo.py:1-2", uri: "file:///ws/demo.py", range: { start: 0 } },
    { kind: "paste", label: "Pasted", text: "has ``` fences\n" },
  ]);
  assert.equal(composed.prompt, "Explain this\n\n@README.md @selection\n\n````\nhas ``` fences\n````");
  assert.deepEqual(composed.selection, { uri: "file:///ws/demo.py", range: { start: 0 } });
  assert.deepEqual(composePrompt("plain", []), { prompt: "plain" });
});

test("history walks back and forth and keeps the draft", () => {
  const history = new PromptHistory(["first", "second"]);
  assert.equal(history.previous("draft"), "second");
  assert.equal(history.previous("second"), "first");
  assert.equal(history.previous("first"), undefined, "the oldest stays");
  assert.equal(history.next(), "second");
  assert.equal(history.next(), "draft", "past the newest comes the draft back");
  assert.equal(history.next(), undefined);
  history.add("third");
  history.add("third");
  assert.deepEqual(history.all, ["first", "second", "third"], "an immediate repeat is stored once");
  assert.equal(history.previous(""), "third");
});

test("commands are filtered by prefix first, then substring", () => {
  const items = filterCommands(
    [
      { name: "compact", description: "Summarise", source: "built-in" },
      { name: "frontend:review", argumentHint: "[file]", source: "workspace" },
      { name: "review", description: "Review a change", source: "user" },
    ],
    "rev",
  );
  assert.deepEqual(items.map((item) => item.insert), ["/review", "/frontend:review"]);
  assert.equal(items[1].label, "/frontend:review [file]");
  assert.equal(items[0].detail, "Review a change · user");
});

test("mention items from the server keep their order; junk is dropped", () => {
  const items = mentionItems([
    { label: "@demo.py", name: "demo.py", kind: "file", detail: "" },
    { label: "@src/", name: "src/", kind: "dir", detail: "directory" },
    null,
    { kind: "file" },
  ]);
  assert.deepEqual(items, [
    { label: "@demo.py", insert: "demo.py", detail: "file" },
    { label: "@src/", insert: "src/", detail: "dir · directory" },
  ]);
  assert.deepEqual(mentionItems({ not: "a list" }), []);
});

test("the context meter warns near the compaction threshold and hides without a window", () => {
  assert.equal(contextMeter({ contextTokens: 100 }), undefined);
  const low = contextMeter({ contextTokens: 1000, contextWindow: 8192, compactThreshold: 0.8 })!;
  assert.equal(low.warn, false);
  assert.equal(low.short, "1.0k/8.2k (12%)");
  const high = contextMeter({ contextTokens: 6000, contextWindow: 8192, compactThreshold: 0.8 })!;
  assert.equal(high.warn, true);
  assert.match(high.label, /compaction threshold/);
});

test("unsafe is offered only when the user's settings allow it", () => {
  const all = ["read-only", "write", "shell", "unsafe"];
  assert.deepEqual(offeredTiers(all, "write", false), ["read-only", "write", "shell"]);
  assert.deepEqual(offeredTiers(all, "write", true), all);
  assert.deepEqual(offeredTiers(all, "unsafe", false), all);
});

test("property: a token found always spans its trigger and query, ending at the caret", () => {
  // A seeded generator over an alphabet rich in triggers and separators (no dependency needed).
  let seed = 20;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const alphabet = ["/", "@", " ", "\n", "a", "b", ".", ":", "-", "é", "\t", "x@y"];
  for (let run = 0; run < 2000; run += 1) {
    const length = Math.floor(random() * 12);
    const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    const caret = Math.floor(random() * (text.length + 1));
    const token = completionTokenAt(text, caret);
    if (!token) continue;
    assert.equal(token.end, caret);
    assert.equal(text.slice(token.start, token.end), token.trigger + token.query, JSON.stringify({ text, caret }));
    assert.doesNotMatch(token.query, /\s/);
    if (token.trigger === "/") assert.equal(token.start, 0, "a command only at the very start");
    else assert.ok(token.start === 0 || /\s/.test(text[token.start - 1]), "a mention after whitespace");
    const replaced = replaceToken(text, token, `${token.trigger}done`);
    assert.equal(replaced.text.slice(0, token.start), text.slice(0, token.start), "text before the token is kept");
    assert.equal(replaced.text.slice(replaced.caret).replace(/^ /, ""), text.slice(caret).replace(/^ /, ""), "text after it too");
  }
});
