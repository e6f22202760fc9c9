import assert from "node:assert/strict";
import { test } from "node:test";
import { applyUnifiedDiff } from "../src/pure/unifiedDiff";

const original = "a\nb\nc\nd\ne\n";

test("applies a hunk with context", () => {
  const diff = "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n";
  assert.equal(applyUnifiedDiff(original, diff), "a\nb\nC\nd\ne\n");
});

test("finds a hunk that moved and applies several hunks", () => {
  const shifted = `x\ny\n${original}`;
  const diff = "@@ -1,2 +1,2 @@\n-a\n+A\n b\n@@ -5,1 +5,2 @@\n e\n+f\n";
  assert.equal(applyUnifiedDiff(shifted, diff), "x\ny\nA\nb\nc\nd\ne\nf\n");
});

test("returns undefined when the text no longer matches", () => {
  assert.equal(applyUnifiedDiff(original, "@@ -2,1 +2,1 @@\n-zzz\n+y\n"), undefined);
  assert.equal(applyUnifiedDiff(original, "not a diff"), undefined);
});

test("creates a new file and keeps CRLF line endings", () => {
  assert.equal(applyUnifiedDiff("", "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+x = 1\n+y = 2\n"), "x = 1\ny = 2\n");
  assert.equal(applyUnifiedDiff("a\r\nb\r\n", "@@ -1,2 +1,2 @@\n a\n-b\n+B\n"), "a\r\nB\r\n");
});

test("honours 'No newline at end of file'", () => {
  const diff = "@@ -1,1 +1,1 @@\n-x = 1\n\\ No newline at end of file\n+x = 2\n\\ No newline at end of file\n";
  assert.equal(applyUnifiedDiff("x = 1", diff), "x = 2");
});
