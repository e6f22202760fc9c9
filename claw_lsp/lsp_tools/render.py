"""Reading language server results (LSP JSON, from any server) into what the model sees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from claw_lsp.edits.positions import LineIndex, Position, PositionEncoding, Range
from claw_lsp.edits.textdiff import TextEdit

MAX_HOVER_CHARS = 4_000
MAX_LINE_CHARS = 200
SYMBOL_KINDS = [
    "file",
    "module",
    "namespace",
    "package",
    "class",
    "method",
    "property",
    "field",
    "constructor",
    "enum",
    "interface",
    "function",
    "variable",
    "constant",
    "string",
    "number",
    "boolean",
    "array",
    "object",
    "key",
    "null",
    "enum-member",
    "struct",
    "event",
    "operator",
    "type-parameter",
]


@dataclass(frozen=True)
class Spot:
    """A place a server pointed at: a URI and a range in the server's position encoding."""

    uri: str
    range: Range
    encoding: PositionEncoding
    label: str = ""  # a symbol's name and kind, for workspace symbols

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.uri, self.range.start.line, self.range.start.character)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def parse_range(value: Any) -> Range | None:
    if not isinstance(value, Mapping):
        return None
    start, end = value.get("start"), value.get("end")
    if not isinstance(start, Mapping) or not isinstance(end, Mapping):
        return None
    return Range(
        Position(_int(start.get("line")), _int(start.get("character"))),
        Position(_int(end.get("line")), _int(end.get("character"))),
    )


def spots(result: Any, encoding: PositionEncoding) -> list[Spot]:
    """Location | Location[] | LocationLink[] | null (definition, references)."""
    items = result if isinstance(result, list) else [result]
    out: list[Spot] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        uri = item.get("targetUri", item.get("uri"))
        rng = parse_range(item.get("targetSelectionRange") or item.get("range"))
        if isinstance(uri, str) and rng is not None:
            out.append(Spot(uri, rng, encoding))
    return out


def symbol_spots(result: Any, encoding: PositionEncoding) -> list[Spot]:
    """SymbolInformation[] | WorkspaceSymbol[] (workspace/symbol)."""
    out: list[Spot] = []
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            continue
        location = item.get("location")
        if not isinstance(location, Mapping) or not isinstance(location.get("uri"), str):
            continue
        rng = parse_range(location.get("range")) or Range(Position(0, 0), Position(0, 0))
        kind = _int(item.get("kind"))
        kind_name = SYMBOL_KINDS[kind - 1] if 1 <= kind <= len(SYMBOL_KINDS) else "symbol"
        container = item.get("containerName")
        inside = f" in {container}" if isinstance(container, str) and container else ""
        out.append(Spot(location["uri"], rng, encoding, f"{kind_name} {item['name']}{inside}"))
    return out


def unique(found: list[Spot]) -> list[Spot]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for spot in found:
        if spot.key not in seen:
            seen.add(spot.key)
            out.append(spot)
    return out


def line_and_column(text: str | None, spot: Spot) -> tuple[int, int, str]:
    """1-based line, 1-based column in characters, and the line's text (when known)."""
    line = spot.range.start.line
    if text is None:
        return line + 1, spot.range.start.character + 1, ""
    index = LineIndex(text)
    if line >= index.line_count:
        return line + 1, spot.range.start.character + 1, ""
    offset = index.position_to_offset(spot.range.start, spot.encoding)
    start = index.line_start(line)
    content = text[start : index.line_content_end(line)].strip()
    if len(content) > MAX_LINE_CHARS:
        content = content[:MAX_LINE_CHARS] + "..."
    return line + 1, offset - start + 1, content


def hover_text(result: Any) -> str:
    """Hover.contents: MarkupContent, a MarkedString, or a list of MarkedStrings."""
    if not isinstance(result, Mapping):
        return ""
    contents = result.get("contents")
    parts: list[str] = []
    for item in contents if isinstance(contents, list) else [contents]:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, Mapping) and isinstance(item.get("value"), str):
            language = item.get("language")
            value = item["value"]
            parts.append(f"```{language}\n{value}\n```" if isinstance(language, str) else value)
    text = "\n\n".join(p.strip() for p in parts if p.strip())
    if len(text) > MAX_HOVER_CHARS:
        text = text[:MAX_HOVER_CHARS] + f"\n[hover text cut at {MAX_HOVER_CHARS} characters]"
    return text


class EditNotSupported(ValueError):
    """The model-facing reason a WorkspaceEdit cannot be applied as text edits."""


def workspace_edit_texts(edit: Any) -> dict[str, list[TextEdit]]:
    """A WorkspaceEdit's text edits per URI (documentChanges or changes). File creations,
    renames and deletions are refused: a symbol rename that moves files is not done here."""
    if not isinstance(edit, Mapping):
        raise EditNotSupported("the language server returned no edit")
    out: dict[str, list[TextEdit]] = {}
    changes = edit.get("documentChanges")
    if isinstance(changes, list):
        for change in changes:
            if not isinstance(change, Mapping):
                continue
            if "kind" in change:
                raise EditNotSupported(
                    f"the rename also wants to {change.get('kind')} a file, which rename_symbol "
                    "does not do; rename the file with the shell or write_file"
                )
            document = change.get("textDocument")
            uri = document.get("uri") if isinstance(document, Mapping) else None
            if isinstance(uri, str):
                out.setdefault(uri, []).extend(_text_edits(change.get("edits")))
    plain = edit.get("changes")
    if not out and isinstance(plain, Mapping):
        for uri, edits in plain.items():
            if isinstance(uri, str):
                out.setdefault(uri, []).extend(_text_edits(edits))
    return {uri: edits for uri, edits in out.items() if edits}


def _text_edits(items: Any) -> list[TextEdit]:
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        rng = parse_range(item.get("range"))
        new_text = item.get("newText")
        if rng is not None and isinstance(new_text, str):
            out.append(TextEdit(rng, new_text))
    return out
