/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Editing a proposed plan in place (issue 20's Edit): the plan's rendered Markdown becomes a
// text area, and Accept then carries out the user's text (claw.acceptPlan's `plan`). The text
// survives the transcript's re-renders while the plan is still proposed.

export class PlanEdits {
  /** The plan block's key (data-key) -> the text the user has so far. */
  private readonly edited = new Map<string, string>();

  /** Edit clicked: show the editor, seeded with the plan as the model handed it over. */
  start(block: HTMLElement, plan: string): void {
    const key = block.dataset.key;
    if (!key) return;
    if (!this.edited.has(key)) this.edited.set(key, plan);
    this.show(block, key)?.focus();
  }

  /** After a re-render: editors back in the plans still proposed; settled plans drop theirs. */
  restore(root: HTMLElement): void {
    for (const key of [...this.edited.keys()]) {
      const block = [...root.querySelectorAll<HTMLElement>(".item.plan-proposed")].find((element) => element.dataset.key === key);
      if (block) this.show(block, key);
      else this.edited.delete(key);
    }
  }

  /** A plan button was clicked: the edited text for Accept (undefined: not edited); editing ends. */
  settle(target: HTMLElement, action: string | undefined): string | undefined {
    const key = target.closest<HTMLElement>(".item.plan")?.dataset.key;
    if (!key) return undefined;
    const text = this.edited.get(key);
    this.edited.delete(key);
    return action === "acceptPlan" ? text : undefined;
  }

  private show(block: HTMLElement, key: string): HTMLTextAreaElement | undefined {
    const existing = block.querySelector<HTMLTextAreaElement>("textarea.plan-editor");
    if (existing) return existing;
    const editor = document.createElement("textarea");
    editor.className = "plan-editor";
    editor.setAttribute("aria-label", "Edit the plan, then Accept to carry out your text");
    editor.value = this.edited.get(key) ?? "";
    editor.rows = Math.min(20, Math.max(4, editor.value.split("\n").length + 1));
    editor.addEventListener("input", () => this.edited.set(key, editor.value));
    const rendered = block.querySelector(".markdown");
    if (rendered) rendered.replaceWith(editor);
    else block.querySelector(".plan-title")?.after(editor);
    return editor;
  }
}
