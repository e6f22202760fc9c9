// Applies a unified diff (as sent in `proposal` events) to a document's text, so the diff editor
// can show the proposed file next to the live buffer. Hunks are located by their old lines,
// preferring the stated position, so a buffer that moved a little still works.

interface Hunk {
  oldStart: number;
  oldLines: string[];
  newLines: string[];
  newEndsWithoutNewline: boolean;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/;

export function parseHunks(diff: string): Hunk[] | undefined {
  const hunks: Hunk[] = [];
  let current: Hunk | undefined;
  let lastSide: "old" | "new" | "both" | undefined;
  // The final newline ends the last line; it does not start an empty context line.
  const body = diff.endsWith("\n") ? diff.slice(0, diff.endsWith("\r\n") ? -2 : -1) : diff;
  for (const line of body.split(/\r?\n/)) {
    const header = HUNK_HEADER.exec(line);
    if (header) {
      current = { oldStart: Number(header[1]), oldLines: [], newLines: [], newEndsWithoutNewline: false };
      hunks.push(current);
      continue;
    }
    if (!current) continue; // file headers (---, +++, diff --git) before the first hunk
    if (line.startsWith("\\")) {
      if (lastSide === "new" || lastSide === "both") current.newEndsWithoutNewline = true;
      continue;
    }
    const marker = line[0];
    const content = line.slice(1);
    if (marker === " " || line === "") {
      current.oldLines.push(content);
      current.newLines.push(content);
      lastSide = "both";
    } else if (marker === "-") {
      current.oldLines.push(content);
      lastSide = "old";
    } else if (marker === "+") {
      current.newLines.push(content);
      lastSide = "new";
    } else {
      current = undefined; // the next file's headers
    }
  }
  return hunks.length > 0 ? hunks : undefined;
}

function matchesAt(lines: readonly string[], block: readonly string[], at: number): boolean {
  if (at < 0 || at + block.length > lines.length) return false;
  for (let i = 0; i < block.length; i++) if (lines[at + i] !== block[i]) return false;
  return true;
}

function locate(lines: readonly string[], block: readonly string[], expected: number): number {
  if (matchesAt(lines, block, expected)) return expected;
  for (let distance = 1; distance <= lines.length; distance++) {
    if (matchesAt(lines, block, expected - distance)) return expected - distance;
    if (matchesAt(lines, block, expected + distance)) return expected + distance;
  }
  return -1;
}

/** Returns the patched text, or undefined when the diff does not fit the text. */
export function applyUnifiedDiff(original: string, diff: string): string | undefined {
  const hunks = parseHunks(diff);
  if (!hunks) return undefined;
  const eol = original.includes("\r\n") ? "\r\n" : "\n";
  const endsWithNewline = original.length === 0 || original.endsWith("\n");
  const lines = original.length === 0 ? [] : original.split(/\r?\n/);
  if (endsWithNewline && lines.length > 0) lines.pop();

  let offset = 0;
  let resultEndsWithNewline = endsWithNewline;
  for (const hunk of hunks) {
    // "-0,0" (new file) has oldStart 0; otherwise lines are 1-based.
    const expected = Math.max(0, hunk.oldStart - 1) + offset;
    const at = hunk.oldLines.length === 0 ? Math.min(expected, lines.length) : locate(lines, hunk.oldLines, expected);
    if (at < 0) return undefined;
    lines.splice(at, hunk.oldLines.length, ...hunk.newLines);
    offset = at - Math.max(0, hunk.oldStart - 1) + hunk.newLines.length - hunk.oldLines.length;
    if (at + hunk.newLines.length >= lines.length) resultEndsWithNewline = !hunk.newEndsWithoutNewline;
  }
  const body = lines.join(eol);
  return resultEndsWithNewline && lines.length > 0 ? body + eol : body;
}
