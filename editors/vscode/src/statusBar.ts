// Status bar: the permission tier of the active folder and whether a turn is running.
import * as vscode from "vscode";

export class ClawStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("claw.status", vscode.StatusBarAlignment.Left, 50);
  private tier = "…";
  private busy = false;
  private serverRunning = false;

  constructor() {
    this.item.name = "Claw";
    this.render();
    this.item.show();
  }

  update(change: { tier?: string; busy?: boolean; serverRunning?: boolean }): void {
    if (change.tier) this.tier = change.tier;
    if (change.busy !== undefined) this.busy = change.busy;
    if (change.serverRunning !== undefined) this.serverRunning = change.serverRunning;
    this.render();
  }

  private render(): void {
    if (!this.serverRunning) {
      this.item.text = "$(circle-slash) Claw: stopped";
      this.item.tooltip = "The Claw language server is not running. Click to restart it.";
      this.item.command = "claw.ui.restart";
      return;
    }
    this.item.text = `${this.busy ? "$(sync~spin)" : "$(shield)"} Claw: ${this.tier}${this.busy ? " (working)" : ""}`;
    this.item.tooltip = this.busy
      ? `Claw is working (tier ${this.tier}). Run "Claw: Cancel" to stop it.`
      : `Claw permission tier: ${this.tier}. Click to change it.`;
    this.item.command = this.busy ? "claw.ui.cancel" : "claw.ui.setTier";
  }

  dispose(): void {
    this.item.dispose();
  }
}
