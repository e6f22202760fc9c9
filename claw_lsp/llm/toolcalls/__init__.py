"""Tool calls that local servers hand back as plain text, in every model family's own form.

One parser per family (hermes, qwen_xml, mistral, llama, pythonic, glm, harmony, sections for
DeepSeek and Kimi K2, command_r, generic JSON), a registry that runs them in a fixed priority
order (registry.py), family detection (detect.py), the families' own call syntax and tools
prompts for text mode (render.py, prompts.py) and a streaming filter that keeps the raw markup
of a recovered call out of the visible text (stream.py).

What a wire-form adapter needs: ``TextDialect`` (which family to parse and to prompt in),
``extract_text_tool_calls(content, tools, family)``, ``VisibleTextFilter(tools, family)`` to
wrap ``on_text`` with, and ``has_open_call`` for replies cut off by the token limit.
"""

from claw_lsp.llm.toolcalls.core import MAX_CONTENT_CHARS, TextToolCall, ToolCatalog
from claw_lsp.llm.toolcalls.detect import FamilyGuess, TextDialect, detect_family
from claw_lsp.llm.toolcalls.registry import FAMILIES, extract_text_tool_calls, parsers_for
from claw_lsp.llm.toolcalls.stream import VisibleTextFilter, has_open_call

__all__ = [
    "FAMILIES",
    "MAX_CONTENT_CHARS",
    "FamilyGuess",
    "TextDialect",
    "TextToolCall",
    "ToolCatalog",
    "VisibleTextFilter",
    "detect_family",
    "extract_text_tool_calls",
    "has_open_call",
    "parsers_for",
]
