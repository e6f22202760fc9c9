"""Tool calls that local servers hand back as plain text, in every model family's own form.

One parser per family (hermes, qwen_xml, mistral, llama, pythonic, glm, harmony, sections for
DeepSeek and Kimi K2, command_r, generic JSON), a registry that runs them in a fixed priority
order (registry.py), family detection (detect.py) and a streaming filter that keeps the raw
markup of a recovered call out of the visible text (stream.py).
"""

from claw_lsp.llm.toolcalls.core import MAX_CONTENT_CHARS, TextToolCall, ToolCatalog
from claw_lsp.llm.toolcalls.registry import FAMILIES, extract_text_tool_calls, parsers_for

__all__ = [
    "FAMILIES",
    "MAX_CONTENT_CHARS",
    "TextToolCall",
    "ToolCatalog",
    "extract_text_tool_calls",
    "parsers_for",
]
