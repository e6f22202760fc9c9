"""A session/prompt's content blocks as a claw prompt. Files the client links or embeds become
@-mentions (context/mentions.py), so they are attached with the same confinement and
credential-file rules as a typed `@path`; an embedded file's text is what the client's buffer
holds (unsaved changes included). Other embedded resources are attached as they came."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from acp import RequestError
from acp.schema import (
    EmbeddedResourceContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)

from claw_lsp.context.mentions import MAX_ATTACHMENT_CHARS, Attachment
from claw_lsp.permissions.paths import PathDenied, Root, Workspace

MAX_BLOCKS = 200


def prompt_from_blocks(
    blocks: Sequence[Any], workspace: Workspace, root: Root
) -> tuple[str, str, dict[Path, str]]:
    """(prompt text, attached context, client buffers by real path)."""
    if len(blocks) > MAX_BLOCKS:
        raise RequestError.invalid_params({"message": f"at most {MAX_BLOCKS} content blocks"})
    parts: list[str] = []
    mentions: list[str] = []
    context: list[str] = []
    buffers: dict[Path, str] = {}
    for block in blocks:
        if isinstance(block, TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, ResourceContentBlock):
            mention = _mention_for(block.uri, workspace, root)
            mentions.append(mention or f"(linked: {block.name} <{block.uri}>)")
        elif isinstance(block, EmbeddedResourceContentBlock):
            resource = block.resource
            if not isinstance(resource, TextResourceContents):
                mentions.append(f"(a binary resource {resource.uri} was left out)")
                continue
            mention = _mention_for(resource.uri, workspace, root)
            if mention is not None:
                buffers[_real(resource.uri)] = resource.text
                mentions.append(mention)
            else:
                body = resource.text[:MAX_ATTACHMENT_CHARS]
                context.append(Attachment("resource", resource.uri, body).render())
        else:
            kind = getattr(block, "type", "unknown")
            raise RequestError.invalid_params(
                {"message": f"{kind} content is not supported: claw's backends take text"}
            )
    text = "\n".join(p for p in parts if p)
    words = set(text.split())
    missing = [m for m in dict.fromkeys(mentions) if m not in words]
    if missing:
        text = (text + "\n\n" if text else "") + " ".join(missing)
    return text, "\n\n".join(context), buffers


def _mention_for(uri: str, workspace: Workspace, root: Root) -> str | None:
    """`@relative/path` for a file in the session's folder, `@/abs/path` for one in another
    open folder; None for anything else (which is then not read at all)."""
    if not uri.startswith("file://"):
        return None
    try:
        target = workspace.resolve_uri(uri)
    except (PathDenied, ValueError):
        return None
    name = target.relative if target.root == root else str(target.path)
    if any(ch.isspace() for ch in name) or name == ".":
        return None  # a mention ends at whitespace; such a file is not attached
    return f"@{name}"


def _real(uri: str) -> Path:
    from claw_lsp.permissions.paths import uri_to_path

    return Path(os.path.realpath(uri_to_path(uri)))
