"""Pythonic calls (Llama 3.2 / Llama 4, vLLM's ``pythonic`` parser):
``[get_weather(city='San Francisco', metric='celsius'), get_time()]``, optionally between
``<|python_start|>`` and ``<|python_end|>``.

The list must have its line to itself. It is read with ``ast`` (never evaluated): only keyword
arguments whose values are Python literals, converted to JSON types. A list naming any tool that
is not offered is not a call at all.
"""

from __future__ import annotations

import ast
import re

from claw_lsp.llm.toolcalls.core import (
    MAX_CANDIDATE_ATTEMPTS,
    Match,
    TextToolCall,
    invalid_arguments,
    skip_spaces,
    valid,
)
from claw_lsp.llm.toolcalls.regions import Scan, inside_call_tag, is_example
from claw_lsp.llm.toolcalls.values import json_compatible

FAMILY = "pythonic"
PYTHON_START = "<|python_start|>"
PYTHON_END = "<|python_end|>"
_LIST_START = re.compile(r"\[\s*[A-Za-z_][\w.]*\s*\(")
_END_TOKENS = (PYTHON_END, "<|eom_id|>", "<|eot_id|>", "<|eom|>", "<|eot|>")
_MAX_LIST_CHARS = 200_000
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _closing_bracket(content: str, start: int) -> int:
    """Index of the bracket closing the one at ``start`` (strings honoured), else -1."""
    stack: list[str] = []
    quote = ""
    position = start
    limit = min(len(content), start + _MAX_LIST_CHARS)
    while position < limit:
        char = content[position]
        if quote:
            if char == "\\":
                position += 1
            elif content.startswith(quote, position):
                position += len(quote) - 1
                quote = ""
        elif char in "'\"":
            quote = (
                content[position : position + 3] if content.startswith(char * 3, position) else char
            )
            position += len(quote) - 1
        elif char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in ")]}":
            if not stack or stack.pop() != char:
                return -1
            if not stack:
                return position
        position += 1
    return -1


def _dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        prefix = _dotted_name(node.value)
        return None if prefix is None else f"{prefix}.{node.attr}"
    return None


def _call(node: ast.expr, scan: Scan, raw: str) -> TextToolCall | None:
    if not isinstance(node, ast.Call):
        return None
    name = _dotted_name(node.func)
    if name is None or name not in scan.tools:
        return None
    if node.args or any(keyword.arg is None for keyword in node.keywords):
        return TextToolCall(name, invalid_arguments("use keyword arguments only"), raw, FAMILY)
    values = {}
    for keyword in node.keywords:
        try:
            values[str(keyword.arg)] = json_compatible(ast.literal_eval(keyword.value))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            reason = f"argument {keyword.arg!r} is not a literal value"
            return TextToolCall(name, invalid_arguments(reason), raw, FAMILY)
    return TextToolCall(name, valid(values), raw, FAMILY)


def _calls(text: str, scan: Scan, raw: str) -> list[TextToolCall] | None:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    body = tree.body
    nodes = body.elts if isinstance(body, ast.List | ast.Tuple) else [body]
    calls = [_call(node, scan, raw) for node in nodes]
    if not calls or any(call is None for call in calls):
        return None
    return [call for call in calls if call is not None]


def _trailing_end(content: str, position: int) -> int:
    after = skip_spaces(content, position)
    for token in _END_TOKENS:
        if content.startswith(token, after):
            return after + len(token)
    return position


def _wrapped(scan: Scan, start: int) -> Match | None:
    content = scan.content
    body = start + len(PYTHON_START)
    close = content.find(PYTHON_END, body)
    end = len(content) if close == -1 else close
    if close == -1 and not content[body:].rstrip().endswith((")", "]")):
        return None  # still being written
    block_end = end if close == -1 else close + len(PYTHON_END)
    calls = _calls(content[body:end], scan, content[start:block_end])
    return None if calls is None else Match(start, block_end, tuple(calls))


def _listed(scan: Scan, start: int) -> Match | None:
    content = scan.content
    line_start = content.rfind("\n", 0, start) + 1
    if content[line_start:start].strip() or is_example(content, start):
        return None
    if inside_call_tag(content, start):
        return None
    close = _closing_bracket(content, start)
    if close == -1:
        return None
    end = _trailing_end(content, close + 1)
    line_end = content.find("\n", end)
    if content[end : len(content) if line_end == -1 else line_end].strip():
        return None  # more on the same line: a list in prose, not a call
    raw = content[start:end]
    calls = _calls(content[start : close + 1], scan, raw)
    return None if calls is None else Match(start, end, tuple(calls))


def find(scan: Scan) -> list[Match]:
    content = scan.content
    if "(" not in content:
        return []
    # Two scans (see llama.py): the bracketed lists, and the <|python_start|> tags.
    starts = [(m.start(), False) for m in _LIST_START.finditer(content)]
    position = content.find(PYTHON_START)
    while position != -1:
        starts.append((position, True))
        position = content.find(PYTHON_START, position + 1)
    matches: list[Match] = []
    covered = attempts = 0
    for start, tagged in sorted(starts):
        if start < covered or attempts >= MAX_CANDIDATE_ATTEMPTS or not scan.free(start):
            continue
        attempts += 1
        match = _wrapped(scan, start) if tagged else _listed(scan, start)
        if match is not None:
            matches.append(match)
            covered = match.end
    return matches
