"""MCP results as text for the model: tool results, resource contents, prompt messages.

Everything here works on the wire form (the spec's camelCase JSON), so it does not depend on
the SDK's model classes. Binary content (images, audio, blobs) is described by type and size:
the backend probe reports no image input, so no image part is ever sent (docs/mcp.md).
Capping and secret masking happen in the orchestrator, like for every tool.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RenderedResult:
    text: str
    is_error: bool


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def render_tool_result(result: Mapping[str, Any]) -> RenderedResult:
    """Text content as the result; structuredContent added as compact JSON, unless the text
    blocks already are its serialisation (the spec's backwards-compatible duplicate)."""
    blocks = list(result.get("content") or [])
    parts = [render_block(block) for block in blocks]
    structured = result.get("structuredContent")
    if structured is not None:
        texts = [b.get("text", "") for b in blocks if b.get("type") == "text"]
        duplicates = bool(texts) and len(texts) == len(blocks)
        duplicates = duplicates and all(_is_serialisation(text, structured) for text in texts)
        if not duplicates:
            parts.append(compact_json(structured))
    text = "\n".join(part for part in parts if part)
    return RenderedResult(text or "(the tool returned no content)", bool(result.get("isError")))


def _is_serialisation(text: str, structured: Any) -> bool:
    # FastMCP wraps a plain return value as {"result": value} and sends the value as text.
    wrapped = isinstance(structured, Mapping) and list(structured) == ["result"]
    if wrapped and text == structured["result"]:
        return True
    try:
        parsed = json.loads(text)
    except ValueError:
        return False
    return parsed == structured or (wrapped and parsed == structured["result"])


def render_block(block: Mapping[str, Any]) -> str:
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind in ("image", "audio"):
        size = _base64_size(block.get("data"))
        return f"[{kind}: {block.get('mimeType') or 'unknown type'}, {size:,} bytes, not shown]"
    if kind == "resource":
        return render_contents([block.get("resource") or {}])
    if kind == "resource_link":
        name = block.get("name") or ""
        return f"[resource link: {name} {block.get('uri', '')}]".replace("  ", " ")
    return f"[{kind or 'unknown'} content, not shown]"


def render_contents(contents: Sequence[Mapping[str, Any]]) -> str:
    """A resource's contents: text as it is, blobs described."""
    parts = []
    for item in contents:
        uri = item.get("uri", "")
        if "text" in item:
            parts.append(str(item["text"]))
        else:
            size = _base64_size(item.get("blob"))
            mime = item.get("mimeType") or "unknown type"
            parts.append(f"[binary resource {uri}: {mime}, {size:,} bytes, not shown]")
    return "\n".join(parts)


def render_prompt(result: Mapping[str, Any]) -> str:
    """A prompt's messages as one user message: user text as it is, other roles labelled."""
    parts = []
    for message in result.get("messages") or []:
        content = message.get("content") or {}
        text = render_block(content) if isinstance(content, Mapping) else str(content)
        role = message.get("role", "user")
        parts.append(text if role == "user" else f"[{role}]\n{text}")
    return "\n\n".join(part for part in parts if part.strip())


def _base64_size(data: Any) -> int:
    if not isinstance(data, str):
        return 0
    stripped = data.rstrip("=")
    return len(stripped) * 3 // 4
