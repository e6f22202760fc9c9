// The plan-mode scenarios of drive.mjs (issues 18 and 20): the toolbar's mode switch to Plan, a
// plan turn whose model keeps a todo list, delegates to a subagent and hands over a plan; the
// plan's Accept / Edit / Keep planning buttons; the accepted turn ticking the todo list through.
// `h` holds drive.mjs's page, config and helpers.
export async function planScenarios(h) {
  const { page, config, path, scenario, waitFor, viewFrame, sendFromInput, turnCount, waitForTurnEnd } = h;

  // The last turn now, pinned by index (a `.last()` locator would follow the turns that come after).
  const lastTurn = async () => (await viewFrame()).locator("section.turn").nth((await turnCount()) - 1);
  const todoRows = async (turn) =>
    turn.locator(".item.todos li.todo").evaluateAll((rows) =>
      rows.map((row) => ({ text: row.textContent.trim(), status: row.className.replace(/.*todo-/, "") })),
    );

  async function setMode(mode) {
    const frame = await viewFrame();
    await frame.locator("#mode").selectOption(mode);
    return frame.locator("#mode").inputValue();
  }

  /** Sends a prompt in plan mode and waits for the plan with its buttons; returns the turn. */
  async function askForPlan(record, prompt) {
    record.modeSelected = await setMode("plan");
    const before = await turnCount();
    await sendFromInput(prompt);
    record.planTurnText = await waitForTurnEnd(before);
    const turn = await lastTurn();
    await waitFor("the plan's buttons", async () => (await turn.locator(".item.plan button").count()) === 3);
    record.planButtons = await turn.locator(".item.plan button").allInnerTexts();
    return turn;
  }

  /** Clicks Accept on the last plan and waits for the accepted turn to finish. */
  async function acceptLastPlan(planTurn) {
    const before = await turnCount();
    await planTurn.locator('.item.plan button[data-action="acceptPlan"]').click();
    return waitForTurnEnd(before);
  }

  await scenario("plan", async (record) => {
    const turn = await askForPlan(record, "Plan how to set x to 7");
    record.planText = await turn.locator(".item.plan .markdown").innerText();
    record.planTodos = await todoRows(turn);
    record.planTodoTitle = await turn.locator(".item.todos .todos-title").innerText();
    // The subagent's steps sit inside the task call, collapsed until the user opens it.
    const frame = await viewFrame();
    const task = turn.locator("details.item.tool", { has: frame.locator("summary .tool-name", { hasText: /^task$/ }) }).first();
    record.taskOpen = await task.evaluate((details) => details.open);
    record.subagentText = await task.locator(".subagent").evaluate((element) => element.textContent);
    await page.screenshot({ path: path.join(config.artifacts, "vscode-plan.png") });
    record.planRequests = await h.requests();

    record.acceptedTurnText = await acceptLastPlan(turn);
    const accepted = await lastTurn();
    record.acceptedTodos = await todoRows(accepted);
    record.acceptedTodoTitle = await accepted.locator(".item.todos .todos-title").innerText();
    record.planStateAfter = await turn.locator(".item.plan .plan-state").innerText();
    record.modeAfterAccept = await (await viewFrame()).locator("#mode").inputValue();
  });

  await scenario("planEdit", async (record) => {
    const turn = await askForPlan(record, "Plan a rename of x");
    await turn.locator('.item.plan button[data-action="editPlan"]').click();
    const editor = turn.locator(".item.plan textarea.plan-editor");
    await editor.waitFor({ state: "visible" });
    record.editorBefore = await editor.inputValue();
    await editor.fill("1. Rename x to renamed_by_user\n2. Keep the tests green");
    record.acceptedTurnText = await acceptLastPlan(turn);
  });

  await scenario("planPalette", async (record) => {
    // Claw: Accept Plan from the command palette accepts the plan the view shows.
    const turn = await askForPlan(record, "Plan from the palette");
    const before = await turnCount();
    await h.runPalette("Claw: Accept Plan");
    record.acceptedTurnText = await waitForTurnEnd(before);
    record.planStateAfter = await turn.locator(".item.plan .plan-state").innerText();
  });

  await scenario("planKeep", async (record) => {
    const turn = await askForPlan(record, "Plan something else");
    await turn.locator('.item.plan button[data-action="keepPlanning"]').click();
    record.planState = await waitFor("the plan marked superseded", async () => {
      const state = turn.locator(".item.plan .plan-state");
      return (await state.count()) > 0 && (await state.innerText());
    });
    record.buttonsAfter = await turn.locator(".item.plan button").count();
    record.modeAfter = await (await viewFrame()).locator("#mode").inputValue();
    record.modeBack = await setMode("ask");
  });
}
