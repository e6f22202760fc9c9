"""Which family a model writes its calls in, and how sure we are.

Sources, strongest first: the backend's chat template (llama.cpp ``/props``, Ollama
``/api/show``) names the markup the model was trained on: sure. The first call recovered from
text in a session (stored on its assistant message): sure. The model id (``/v1/models`` or the
configured name): likely only, since a fine-tune or an alias can hide anything. When the family
is sure only its parsers run; otherwise all of them do (registry.py). The family the tools are
described in (text mode) is fixed per model instance, so the system prompt stays byte-stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from claw_lsp.llm.toolcalls.registry import FAMILY_PARSERS, parsers_for

# The key on a stored assistant message that names the family of its text calls. Not a wire
# key: history.wire_message drops it before anything is sent.
HISTORY_KEY = "toolCallFamily"

# First match wins: fine-tunes that change the dialect come before their base models.
_MODEL_IDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), family)
    for pattern, family in (
        (r"gpt-?oss", "harmony"),
        (r"deepseek", "deepseek"),
        (r"kimi", "kimi_k2"),
        (r"glm-?(?:4\.[5-9]|[5-9](?:\b|\.))", "glm"),
        (r"command-?r|c4ai|command-?a\b", "command_r"),
        (r"functionary", "functionary"),
        (r"qwen3(?:\.\d+)?-?coder|seed-?oss", "qwen3_coder"),
        (r"hermes|qwen|qwq|mimo|nous", "hermes"),
        (r"mistral|mixtral|ministral|devstral|magistral|codestral|pixtral|\bnemo\b", "mistral"),
        (r"llama-?4", "pythonic"),
        (r"llama-?3", "llama3"),
    )
)
# Markup a chat template uses for calls: all strings of an entry present -> that family.
_TEMPLATES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("<|channel|>", "to=functions"), "harmony"),
    (("tool▁calls▁begin",), "deepseek"),
    (("<|tool_calls_section_begin|>",), "kimi_k2"),
    (("<arg_key>",), "glm"),
    (("[TOOL_CALLS]",), "mistral"),
    (("<|START_ACTION|>",), "command_r"),
    (("Action:", "tool_name"), "command_r"),
    (("<function=", "<parameter="), "qwen3_coder"),
    (("<tool_call>",), "hermes"),
    (("<function=",), "functionary"),
    (("<|python_start|>",), "pythonic"),
    (("<|python_tag|>",), "llama3"),
    (("ipython",), "llama3"),
)


@dataclass(frozen=True)
class FamilyGuess:
    family: str | None
    source: str  # where it came from, for /status and doctor
    sure: bool

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "source": self.source, "sure": self.sure}

    @classmethod
    def from_dict(cls, data: Any) -> FamilyGuess:
        if not isinstance(data, Mapping) or data.get("family") not in FAMILY_PARSERS:
            return UNKNOWN
        return cls(str(data["family"]), str(data.get("source") or ""), bool(data.get("sure")))


UNKNOWN = FamilyGuess(None, "not detected", False)


def family_from_model_id(model_id: str | None) -> str | None:
    if not model_id:
        return None
    return next((family for pattern, family in _MODEL_IDS if pattern.search(model_id)), None)


def family_from_template(template: Any) -> str | None:
    if not isinstance(template, str) or not template:
        return None
    for markers, family in _TEMPLATES:
        if all(marker in template for marker in markers):
            return family
    return None


def detect_family(
    model_id: str | None,
    *,
    template_family: str | None = None,
    template_source: str = "",
    observed_family: str | None = None,
) -> FamilyGuess:
    """The model's family from what is known when its connection is made: the chat template,
    a call the probe saw come back as text, the model id."""
    if template_family in FAMILY_PARSERS:
        return FamilyGuess(template_family, template_source or "the chat template", True)
    if learnable(observed_family):
        return FamilyGuess(observed_family, "the probe's tool call, written as text", True)
    from_id = family_from_model_id(model_id)
    if from_id is not None:
        return FamilyGuess(from_id, f"the model id {model_id!r}", False)
    return UNKNOWN


def learnable(family: str | None) -> bool:
    """A family a recovered call can teach: fenced or bare JSON is every family's fallback."""
    return family in FAMILY_PARSERS and family != "json"


def family_from_history(messages: Iterable[Mapping[str, Any]]) -> str | None:
    """The family of the first call this session recovered from text, if any."""
    for message in messages:
        family = message.get(HISTORY_KEY) if message.get("role") == "assistant" else None
        if isinstance(family, str) and learnable(family):
            return family
    return None


@dataclass(frozen=True)
class TextDialect:
    """How one model writes calls as text in one session."""

    guess: FamilyGuess = UNKNOWN  # from the model: template, model id
    session_family: str | None = None  # the first text call seen in this session

    @property
    def parse_family(self) -> str | None:
        """The family whose parsers alone run; None: all of them (not known for sure)."""
        if self.guess.sure:
            return self.guess.family
        return self.session_family

    @property
    def prompt_family(self) -> str | None:
        """The family the tools are described in (text mode): fixed per model."""
        return self.guess.family

    def describe(self) -> dict[str, Any]:
        family = self.parse_family or self.guess.family
        if self.guess.sure:
            source, sure = self.guess.source, True
        elif self.session_family is not None:
            source, sure = "the first call seen in this session", True
        else:
            source, sure = self.guess.source, False
        parse = self.parse_family
        parsers = list(parsers_for(parse)) if parse is not None else list(parsers_for(None))
        return {
            "family": family,
            "sure": sure,
            "source": source,
            "parsers": [*parsers, "json"],
            "allParsers": parse is None,
        }


def describe_line(info: Mapping[str, Any]) -> str:
    """One line for /status and doctor, from TextDialect.describe()."""
    family = info.get("family") or "unknown"
    certainty = "sure" if info.get("sure") else "not sure"
    if info.get("allParsers"):
        parsers = "all families' parsers, in priority order"
    else:
        parsers = ", ".join(info.get("parsers") or []) + " only"
    return f"{family} ({certainty}: {info.get('source')}); parsers: {parsers}"
