"""Recover tool calls that a local model wrote as text: see the claw_lsp.llm.toolcalls package.

Kept as the stable import path for ``extract_text_tool_calls(content, known_tools, family=None)``.
"""

from claw_lsp.llm.toolcalls import MAX_CONTENT_CHARS, TextToolCall, extract_text_tool_calls

__all__ = ["MAX_CONTENT_CHARS", "TextToolCall", "extract_text_tool_calls"]
