// The inline diff of an applied edit: the file before the turn against the buffer now, as a
// unified diff (jsdiff, the diff library most JS tooling uses) without the file headers.
import { structuredPatch } from "diff";

const CONTEXT_LINES = 2;
const MAX_DIFF_LINES = 200;

export function inlineDiff(before: string, after: string): string {
  if (before === after) return "";
  const patch = structuredPatch("before", "after", before, after, "", "", { context: CONTEXT_LINES });
  const lines: string[] = [];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) if (!line.startsWith("\\")) lines.push(line);
  }
  if (lines.length > MAX_DIFF_LINES) {
    const hidden = lines.length - MAX_DIFF_LINES;
    return [...lines.slice(0, MAX_DIFF_LINES), `… ${hidden} more lines (Open diff shows all)`].join("\n");
  }
  return lines.join("\n");
}
