// Drives real VS Code (code-server) in Debian's Chromium with playwright-core, the way a user
// would: the Claw view's chat input (typing, / and @ completion, Enter, Up), its toolbar and
// buttons, the command palette, input boxes, notification buttons, Ctrl+Z.
// Usage: node drive.mjs CONFIG.json — config: {url, workspace, depsDir, modelControl, results,
// screenshot, artifacts, scenarios: {name: [scripted replies]}}. Writes a results JSON and exits 0
// when every scenario ran; the pytest wrapper asserts on the recorded buffers and view text.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chatScenarios } from "./drive_chat.mjs";
import { planScenarios } from "./drive_plan.mjs";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const require = createRequire(path.join(config.depsDir, "node_modules", "x.js"));
const { chromium } = require("playwright-core");

const WAIT_MS = 30000;
const results = { scenarios: {}, log: [] };
const log = (line) => {
  results.log.push(`${new Date().toISOString()} ${line}`);
  console.log(line);
};
mkdirSync(config.artifacts, { recursive: true });

async function waitFor(description, probe, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`timed out waiting for ${description} (last: ${String(last).slice(0, 300)})`);
}

async function modelControl(route, body) {
  const response = await fetch(`${config.modelControl}${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.json();
}

const browser = await chromium.launch({
  executablePath: config.chromium ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic"],
});
const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
page.on("pageerror", (error) => log(`pageerror: ${error.message}`));

async function runPalette(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  await waitFor(`palette entry "${title}"`, async () => {
    const label = await page.locator(".quick-input-list .monaco-list-row.focused").first().getAttribute("aria-label");
    return label && label.toLowerCase().startsWith(title.toLowerCase());
  });
  await page.keyboard.press("Enter");
}

async function answerInputBox(text) {
  const input = page.locator(".quick-input-widget input");
  await waitFor("the input box", async () => (await input.isVisible()) && (await input.inputValue()) === "");
  await input.fill(text);
  await page.keyboard.press("Enter");
}

async function openFile(name) {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(name);
  await waitFor(`quick open entry ${name}`, async () => {
    const label = await page.locator(".quick-input-list .monaco-list-row.focused").first().getAttribute("aria-label");
    return label && label.includes(name);
  });
  await page.keyboard.press("Enter");
  await waitFor(`${name} to be the active tab`, async () =>
    (await page.locator(".tabs-container .tab.active").first().getAttribute("aria-label"))?.includes(name),
  );
}

/** The text of the active editor's buffer as rendered (not the disk). */
async function bufferText() {
  return page.evaluate(() => {
    const editor = document.querySelector(".part.editor .editor-group-container.active .editor-instance .monaco-editor");
    if (!editor) return null;
    const lines = [...editor.querySelectorAll(".view-lines .view-line")];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines.map((line) => line.textContent.replace(/\u00a0/g, " ")).join("\n");
  });
}

async function waitForBuffer(expected) {
  return waitFor(`buffer ${JSON.stringify(expected)}`, async () => (await bufferText())?.trimEnd() === expected);
}

async function viewFrame() {
  return waitFor("the Claw conversation view", async () => {
    for (const frame of page.frames()) {
      if (await frame.$("#conversation").catch(() => null)) return frame;
    }
    return null;
  });
}

async function viewText() {
  const frame = await viewFrame();
  return frame.locator("#conversation").innerText();
}

async function waitForView(description, predicate) {
  return waitFor(`view: ${description}`, async () => predicate(await viewText()));
}

/** Types into the view's chat input like a user (key by key, so completion runs). */
async function typeInInput(text) {
  const frame = await viewFrame();
  const input = frame.locator("#prompt");
  await input.click();
  await input.pressSequentially(text, { delay: 15 });
  return input;
}

/** Types a prompt into the chat input and sends it with Enter. */
async function sendFromInput(text) {
  const input = await typeInInput(text);
  await input.press("Enter");
  await waitFor("the input to be cleared after sending", async () => (await input.inputValue()) === "");
}

/** Waits for the completion popup to list `label`; returns the popup's text. */
async function waitForCompletion(label) {
  const frame = await viewFrame();
  return waitFor(`completion "${label}"`, async () => {
    const popup = frame.locator("#completions");
    if (!(await popup.isVisible())) return false;
    const text = await popup.innerText();
    return text.includes(label) && text;
  });
}

async function statusBarText() {
  return page.locator(".statusbar-item", { hasText: "Claw:" }).first().innerText();
}

async function clickNotificationButton(label) {
  const button = page.locator(".notifications-toasts .notification-toast .monaco-button", { hasText: label }).first();
  await button.waitFor({ state: "visible", timeout: WAIT_MS });
  const message = await page.locator(".notifications-toasts .notification-toast").first().innerText();
  await button.click();
  return message;
}

async function focusEditorText() {
  await page.locator(".part.editor .editor-group-container.active .monaco-editor .view-lines").first().click();
}

async function turnCount() {
  const frame = await viewFrame();
  return frame.locator("section.turn").count();
}

async function waitForTurnEnd(previousTurns) {
  const frame = await viewFrame();
  await waitFor("the turn to finish", async () => {
    const count = await frame.locator("section.turn").count();
    if (count <= previousTurns) return false;
    const last = frame.locator("section.turn").last();
    return (await last.locator(".turn-status").count()) > 0 && !(await last.locator(".turn-status.running").count());
  }, 60000);
  return frame.locator("section.turn").last().innerText();
}

async function scenario(name, body) {
  const record = { ok: false };
  results.scenarios[name] = record;
  log(`--- scenario ${name}`);
  await modelControl("/_reset", {});
  await modelControl("/_script", config.scenarios[name] ?? []);
  try {
    await body(record);
    record.ok = true;
  } catch (error) {
    record.error = String(error?.stack ?? error);
    log(`scenario ${name} FAILED: ${record.error}`);
    await page.screenshot({ path: path.join(config.artifacts, `${name}-failure.png`) }).catch(() => {});
  }
  record.requests = await modelControl("/_requests").catch(() => []);
}

async function missingServerSession() {
  // claw.server.path points at nothing: the message must say how to fix it, the status bar "stopped".
  const record = { ok: false };
  results.scenarios.missingServer = record;
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "was not found" }).first();
  await toast.waitFor({ state: "visible", timeout: 60000 });
  record.message = await toast.innerText();
  record.statusBar = await waitFor("the status bar to say stopped", async () => {
    const text = await page.locator(".statusbar-item", { hasText: "Claw:" }).first().innerText();
    return text.includes("stopped") && text;
  });
  record.ok = true;
}

try {
  await page.goto(`${config.url}/?folder=${encodeURIComponent(config.workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
  if (config.mode === "missingServer") await missingServerSession();
  else await mainSession();
} catch (error) {
  results.fatal = String(error?.stack ?? error);
  log(`FATAL: ${results.fatal}`);
  await page.screenshot({ path: path.join(config.artifacts, "fatal.png") }).catch(() => {});
} finally {
  writeFileSync(config.results, JSON.stringify(results, null, 2));
  await browser.close();
}
process.exit(results.fatal ? 1 : 0);

async function mainSession() {
  // The extension host, our extension and the server start after the workbench appears.
  const statusItem = page.locator(".statusbar-item", { hasText: "Claw:" }).first();
  await waitFor("the Claw status bar item to show a tier", async () => {
    const text = await statusItem.innerText().catch(() => "");
    return /Claw: (read-only|write|shell|unsafe)/.test(text) && text;
  }, 60000);
  results.statusBar = await statusItem.innerText();
  log(`status bar: ${results.statusBar}`);
  await runPalette("Claw: Show Conversation");
  await viewFrame();
  await openFile("demo.py");
  await waitForBuffer("x = 1");

  await scenario("askEdit", async (record) => {
    const before = await turnCount();
    await sendFromInput("Change x to 2");
    await waitForBuffer("x = 2");
    record.bufferAfterEdit = await bufferText();
    record.turnText = await waitForTurnEnd(before);
    const frame = await viewFrame();
    const diff = frame.locator("section.turn").last().locator(".item.edit pre.diff");
    await waitFor("the inline diff of the edit", async () => (await diff.count()) > 0);
    record.inlineDiff = await diff.first().innerText();
    record.undoButtons = await frame.locator("section.turn").last().locator('button[data-action="undoTurn"]').count();
    await page.screenshot({ path: path.join(config.artifacts, "vscode-chat-diff.png") });
    record.statusBarAfter = await page.locator(".statusbar-item", { hasText: "Claw:" }).first().innerText();
    await focusEditorText();
    await page.keyboard.press("Control+Z");
    await waitForBuffer("x = 1");
    record.bufferAfterUndo = await bufferText();
    record.diskAfterUndo = readFileSync(path.join(config.workspace, "demo.py"), "utf8");
  });

  await scenario("approval", async (record) => {
    const before = await turnCount();
    await sendFromInput("Run the approval check");
    record.approvalMessage = await clickNotificationButton("Allow once");
    record.turnText = await waitForTurnEnd(before);
  });

  await scenario("lspBridge", async (record) => {
    // Issue 16: the fixture language's providers and diagnostics reach the model via claw/lsp.
    await openFile("main.cfx");
    await waitForBuffer('use lib\nsay(greet("world"))');
    const before = await turnCount();
    await sendFromInput("Find greet, then break and fix the call");
    record.turnText = await waitForTurnEnd(before);
    record.bufferAfter = await bufferText();
    await openFile("demo.py"); // the scenarios after this one work on demo.py
    await waitForBuffer("x = 1");
  });

  await scenario("proposal", async (record) => {
    const before = await turnCount();
    await runPalette("Claw: Ask Agent (Review Edits First)");
    await answerInputBox("Propose x = 3");
    record.turnText = await waitForTurnEnd(before);
    record.bufferWhileProposed = await bufferText();
    const frame = await viewFrame();
    await frame.locator('button[data-action="openProposalDiff"]').last().click();
    await waitFor("the proposal diff editor", async () =>
      (await page.locator(".tabs-container .tab.active").first().getAttribute("aria-label"))?.includes("proposed by Claw"),
    );
    const readDiffModified = () => page.evaluate(() => {
      const modified = document.querySelector(".part.editor .editor-group-container.active .monaco-diff-editor .editor.modified");
      if (!modified) return null;
      const lines = [...modified.querySelectorAll(".view-lines .view-line")];
      lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
      return lines.map((line) => line.textContent.replace(/\u00a0/g, " ")).join("\n");
    });
    // The tab can be active before the diff editor has rendered its lines: wait for text.
    await waitFor("the proposed text in the diff editor", async () => (await readDiffModified())?.trim());
    record.diffModified = await readDiffModified();
    await page.screenshot({ path: path.join(config.artifacts, "proposal-diff.png") });
    await frame.locator('button[data-action="acceptProposal"]').last().click();
    await openFile("demo.py");
    await waitFor("the accepted proposal in the buffer (or a Refactor Preview to confirm)", async () => {
      if ((await bufferText())?.trimEnd() === "x = 3") return true;
      const preview = page.locator(".monaco-workbench .part.panel .monaco-button", { hasText: "Apply" }).first();
      if (await preview.isVisible().catch(() => false)) {
        record.refactorPreview = true;
        await preview.click();
      }
      return false;
    });
    record.bufferAfterAccept = await bufferText();
    await waitForView("the proposal marked accepted", (text) => /accepted/.test(text));
    record.viewText = await viewText();
    await page.screenshot({ path: config.screenshot });
  });

  await scenario("cancel", async (record) => {
    const before = await turnCount();
    await sendFromInput("Count slowly");
    await waitForView("the slow stream to begin", (text) => text.includes("Counting"));
    const frame = await viewFrame();
    const stop = frame.locator("#stop");
    await waitFor("the Stop button while the turn runs", () => stop.isVisible());
    await stop.click();
    record.turnText = await waitForTurnEnd(before);
    record.bufferAfter = await bufferText();
    record.stopHiddenAfter = await waitFor("Stop to hide again", async () => !(await stop.isVisible()));
  });

  // Issue 20: the chat input, its completion, chips, history, the toolbar (drive_chat.mjs).
  await chatScenarios({
    page, config, path, scenario, waitFor, viewFrame, viewText, waitForView, typeInInput, sendFromInput,
    waitForCompletion, statusBarText, runPalette, openFile, focusEditorText, turnCount, waitForTurnEnd,
    waitForBuffer, bufferText,
  });

  // Issues 18/20: plan mode from the toolbar, the plan's buttons, todos, a subagent (drive_plan.mjs).
  await planScenarios({
    page, config, path, scenario, waitFor, viewFrame, sendFromInput, turnCount, waitForTurnEnd,
    runPalette, requests: () => modelControl("/_requests"),
  });

  results.viewText = await viewText().catch(() => null);
}
