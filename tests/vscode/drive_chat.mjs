// The chat-input scenarios of drive.mjs (issue 20): @ and / completion into the view's input,
// Enter and Up, the command picker, the Ask keybinding's selection chip, the Undo turn button
// and the toolbar's tier picker. `h` holds drive.mjs's page, config and helpers.
export async function chatScenarios(h) {
  const { page, config, path, scenario, waitFor, viewFrame, viewText, waitForView, typeInInput, sendFromInput,
    waitForCompletion, statusBarText, runPalette, openFile, focusEditorText, turnCount, waitForTurnEnd,
    waitForBuffer, bufferText } = h;

  await scenario("mention", async (record) => {
    // @ completion from claw.completeMentions: the accepted item becomes a chip, sent as @demo.py.
    const before = await turnCount();
    const input = await typeInInput("What does this set? @dem");
    record.popup = await waitForCompletion("@demo.py");
    await page.screenshot({ path: path.join(config.artifacts, "vscode-completion.png") });
    await input.press("Enter"); // accepts the completion, does not send
    const frame = await viewFrame();
    record.chips = await waitFor("the @demo.py chip", async () => {
      const text = await frame.locator("#chips").innerText();
      return text.includes("@demo.py") && text;
    });
    record.inputAfterAccept = await input.inputValue();
    await input.press("Enter");
    record.turnText = await waitForTurnEnd(before);
  });

  await scenario("slash", async (record) => {
    // / completion from claw.commands; Enter sends; Up in the empty input recalls the prompt.
    const before = await turnCount();
    const input = await typeInInput("/hel");
    record.popup = await waitForCompletion("/help");
    await input.press("Tab");
    record.inputAfterAccept = await input.inputValue();
    await input.press("Enter");
    await waitFor("the input to be cleared after sending", async () => (await input.inputValue()) === "");
    record.turnText = await waitForTurnEnd(before);
    await input.click();
    await input.press("ArrowUp");
    record.recalled = await waitFor("Up to recall the last prompt", async () => (await input.inputValue()) || false);
    await input.fill("");
  });

  await scenario("commandPicker", async (record) => {
    // Claw: Pick Slash Command lists claw.commands; the pick starts the input.
    await runPalette("Claw: Pick Slash Command");
    const quickInput = page.locator(".quick-input-widget input");
    await quickInput.waitFor({ state: "visible" });
    record.entries = await waitFor("the command list", async () => {
      const rows = await page.locator(".quick-input-list .monaco-list-row").allInnerTexts();
      return rows.length > 3 && rows;
    });
    await quickInput.fill("/status");
    await waitFor("/status to be the focused entry", async () =>
      (await page.locator(".quick-input-list .monaco-list-row.focused").first().innerText()).includes("/status"),
    );
    await page.keyboard.press("Enter");
    const frame = await viewFrame();
    const input = frame.locator("#prompt");
    record.inputAfterPick = await waitFor("the picked command in the input", async () => (await input.inputValue()) || false);
    const before = await turnCount();
    await waitFor("the input to have focus", () => input.evaluate((element) => element === document.activeElement));
    await input.press("Enter");
    record.turnText = await waitForTurnEnd(before);
  });

  await scenario("selectionChip", async (record) => {
    // Select code, press the Ask keybinding: the selection becomes a chip in the input.
    await openFile("demo.py");
    await focusEditorText();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Control+Alt+A");
    const frame = await viewFrame();
    record.chips = await waitFor("the selection chip", async () => {
      const text = await frame.locator("#chips").innerText();
      return text.includes("demo.py:1") && text;
    });
    const before = await turnCount();
    const input = frame.locator("#prompt");
    await waitFor("the input to have focus", () => input.evaluate((element) => element === document.activeElement));
    await input.pressSequentially("What is selected?", { delay: 15 });
    await input.press("Enter");
    record.turnText = await waitForTurnEnd(before);
  });

  await scenario("undoButton", async (record) => {
    // An edit, then the turn's own Undo turn button puts the buffer back.
    await openFile("demo.py");
    const before = await turnCount();
    await sendFromInput("Set x to 5");
    await waitForBuffer("x = 5");
    record.bufferAfterEdit = await bufferText();
    await waitForTurnEnd(before);
    const frame = await viewFrame();
    await frame.locator("section.turn").last().locator('button[data-action="undoTurn"]').click();
    await waitForBuffer("x = 3");
    record.bufferAfterUndo = await bufferText();
    const undoneTurn = frame.locator("section.turn", { hasText: "Set x to 5" }).last();
    await waitFor("the turn marked undone", async () => (await undoneTurn.innerText()).includes("Undone"));
    record.undoButtonsAfter = await undoneTurn.locator('button[data-action="undoTurn"]').count();
    record.viewText = await viewText();
  });

  await scenario("tier", async (record) => {
    // The toolbar's tier picker switches the server's tier (the status bar follows).
    const frame = await viewFrame();
    const tier = frame.locator("#tier");
    record.tiersOffered = await tier.locator("option").allInnerTexts();
    await tier.selectOption("read-only");
    record.statusAfter = await waitFor("the status bar to show read-only", async () => {
      const text = await statusBarText();
      return text.includes("read-only") && text;
    });
    await tier.selectOption("write");
    record.statusBack = await waitFor("the status bar to show write", async () => {
      const text = await statusBarText();
      return text.includes("Claw: write") && text;
    });
    await page.screenshot({ path: path.join(config.artifacts, "vscode-toolbar.png") });
  });
}
