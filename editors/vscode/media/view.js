// Webview side of the Claw conversation view: swaps in the HTML the extension renders,
// keeps expanded <details> expanded across renders, follows the stream when scrolled to the
// bottom, and forwards button clicks. No inline handlers (the CSP forbids them).
(function () {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById("conversation");
  const state = vscode.getState() || {};
  const openKeys = new Set(Array.isArray(state.open) ? state.open : []);

  function saveState() {
    vscode.setState({ open: Array.from(openKeys) });
  }

  window.addEventListener("message", (event) => {
    const message = event.data;
    if (!message || message.type !== "render" || typeof message.html !== "string") return;
    const scroller = document.scrollingElement || document.body;
    const followStream = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    root.innerHTML = message.html;
    for (const details of root.querySelectorAll("details[data-key]")) {
      if (openKeys.has(details.dataset.key)) details.open = true;
    }
    if (followStream) scroller.scrollTop = scroller.scrollHeight;
  });

  root.addEventListener(
    "toggle",
    (event) => {
      const details = event.target;
      if (!(details instanceof HTMLDetailsElement) || !details.dataset.key) return;
      if (details.open) openKeys.add(details.dataset.key);
      else openKeys.delete(details.dataset.key);
      saveState();
    },
    true,
  );

  root.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("[data-action]") : null;
    if (target) {
      event.preventDefault();
      if (target instanceof HTMLButtonElement) target.disabled = true;
      vscode.postMessage({
        action: target.dataset.action,
        proposal: target.dataset.proposal,
        uri: target.dataset.uri,
        key: target.dataset.key,
      });
    }
  });

  vscode.postMessage({ action: "ready" });
})();
