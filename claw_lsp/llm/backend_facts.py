"""Facts about a model backend, from what its endpoints say about themselves.

Pure functions and the ProbeReport that `probe.py` fills in: the server kind, the context
window, Ollama's num_ctx, what to expect of prefix caching, and the report's text form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from claw_lsp.foundation.secrets import redact

_ERROR_BODY_CHARS = 300
# Below this an agent's system prompt, tools and one file already overflow.
SMALL_CONTEXT = 16_384
MAX_LISTED_IN_WARNING = 10

OLLAMA_NUM_CTX_ADVICE = (
    "Raise it with `OLLAMA_CONTEXT_LENGTH=32768 ollama serve`, or a Modelfile (`FROM <model>` and "
    "`PARAMETER num_ctx 32768`, then `ollama create <name> -f Modelfile`); the OpenAI-compatible "
    "endpoint cannot set num_ctx per request."
)
_CONTEXT_FIELDS = ("max_model_len", "context_length", "context_window", "max_context_length")
_PREFIX_CACHE_BY_KIND = {
    "vllm": "likely if vLLM runs with prefix caching (on by default in its V1 engine)",
    "llama.cpp": "likely: llama.cpp reuses the KV cache of the prefix shared with the previous "
    "request",
    "ollama": "likely while the model stays loaded (keep_alive) and num_ctx does not change",
    "openai": "automatic for prompts of 1024 tokens or more",
    "litellm": "depends on the backend behind the proxy; hits need the same replica per session",
    "unknown": "unknown for this backend",
}


def describe_error(exc: BaseException, base_url: str, timeout_s: float) -> str:
    """A short, user-facing explanation of a failed request (not yet redacted)."""
    import openai

    from claw_lsp.llm.origin import find_redirect_refusal

    if (refusal := find_redirect_refusal(exc)) is not None:
        return str(refusal)
    if isinstance(exc, openai.APITimeoutError):
        return f"timed out after {timeout_s:g} s talking to {base_url}"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({str(cause)[:120]})" if cause is not None and str(cause) else ""
        return f"not reachable at {base_url}{detail}"
    if isinstance(exc, openai.AuthenticationError):
        return "HTTP 401 (authentication failed): check the API key"
    if isinstance(exc, openai.PermissionDeniedError):
        return "HTTP 403 (permission denied): check the API key and its access to this model"
    if isinstance(exc, openai.APIStatusError):
        body = exc.response.text if exc.response is not None else str(exc)
        return f"HTTP {exc.status_code}: {body[:_ERROR_BODY_CHARS]}"
    return f"{type(exc).__name__}: {str(exc)[:_ERROR_BODY_CHARS]}"


def guess_backend_kind(entries: list[dict[str, Any]], headers: dict[str, str], url: str) -> str:
    """The server kind, from what /v1/models says about itself."""
    if any(name.lower().startswith("x-litellm") for name in headers):
        return "litellm"
    owners = {str(entry.get("owned_by", "")).lower() for entry in entries}
    if "vllm" in owners or any("max_model_len" in entry for entry in entries):
        return "vllm"
    # llama-server says "llamacpp" and adds meta; llama-cpp-python's server says "me".
    if owners & {"llamacpp", "me"} or any(isinstance(e.get("meta"), dict) for e in entries):
        return "llama.cpp"
    if owners & {"library", "ollama"}:
        return "ollama"
    if "api.openai.com" in url or owners & {"openai", "system", "openai-internal"}:
        return "openai"
    return "unknown"


def context_window_from_entry(entry: dict[str, Any]) -> tuple[int, str] | None:
    for name in _CONTEXT_FIELDS:
        value = entry.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, f"{name} from /v1/models"
    meta = entry.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("n_ctx_train"), int):
        return meta["n_ctx_train"], "meta.n_ctx_train from /v1/models (training length)"
    return None


def ollama_num_ctx(shown: Any) -> tuple[int | None, int | None]:
    """(num_ctx set for the model, the model's maximum) from an /api/show reply."""
    if not isinstance(shown, dict):
        return None, None
    num_ctx = None
    for line in str(shown.get("parameters") or "").splitlines():
        name, _, value = line.strip().partition(" ")
        if name == "num_ctx" and value.strip().isdigit():
            num_ctx = int(value.strip())
    model_info = shown.get("model_info")
    model_max = next(
        (v for k, v in model_info.items() if k.endswith(".context_length") and isinstance(v, int)),
        None,
    ) if isinstance(model_info, dict) else None  # fmt: skip
    return num_ctx, model_max


def prefix_cache_statement(kind: str, cached_tokens: int | None, prompt_tokens: int | None) -> str:
    """Short and honest: what the kind suggests, plus what the repeated probe request showed."""
    if cached_tokens:
        of = f" of {prompt_tokens}" if prompt_tokens else ""
        return f"hit observed: {cached_tokens}{of} prompt tokens of a repeated request were cached"
    statement = _PREFIX_CACHE_BY_KIND.get(kind, _PREFIX_CACHE_BY_KIND["unknown"])
    if cached_tokens == 0:
        statement += "; the repeated probe request reported 0 cached tokens"
    return statement + "; claw_lsp keeps the prompt prefix byte-stable to help it"


@dataclass
class ProbeReport:
    base_url: str
    model: str
    reachable: bool = False
    error: str | None = None
    models: list[str] = field(default_factory=list)
    model_listed: bool | None = None
    backend_kind: str = "unknown"
    tool_calls: str = "skipped"  # structured | text | none | error | skipped
    streaming_tool_deltas: bool | None = None
    # Issue 15: the family the chat template names, and the one the probe's text call had.
    tool_call_family: str | None = None
    tool_call_family_source: str | None = None
    text_call_family: str | None = None
    context_window: int | None = None
    context_source: str | None = None
    prefix_cache: str = "unknown"
    warnings: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["duration_s"] = round(self.duration_s, 3)
        return out


def redacted(report: ProbeReport, secrets: list[str]) -> ProbeReport:
    def clean(text: str) -> str:
        return redact(text, secrets)

    report.base_url = clean(report.base_url)
    report.error = clean(report.error) if report.error is not None else None
    report.models = [clean(name) for name in report.models]
    report.context_source = clean(report.context_source) if report.context_source else None
    report.prefix_cache = clean(report.prefix_cache)
    report.warnings = [clean(warning) for warning in report.warnings]
    return report


def _yes_no(value: bool | None, unknown: str = "not tested") -> str:
    return unknown if value is None else ("yes" if value else "no")


def format_report(report: ProbeReport) -> str:
    """Human-readable, multi-line; built only from the (already redacted) report."""
    listed = {True: "listed", False: "NOT listed", None: "listing unavailable"}
    lines = [
        f"Backend: {report.base_url} ({report.backend_kind})",
        f"  reachable: {_yes_no(report.reachable)}",
    ]
    if report.error:
        lines.append(f"  error: {report.error}")
    lines.append(f"  model: {report.model} ({listed[report.model_listed]})")
    if report.models:
        lines.append(f"  models: {', '.join(report.models[:MAX_LISTED_IN_WARNING])}")
    lines.append(f"  tool calls: {report.tool_calls}")
    if report.tool_call_family:
        lines.append(
            f"  chat template tool-call family: {report.tool_call_family} "
            f"({report.tool_call_family_source})"
        )
    if report.text_call_family:
        lines.append(f"  the probe's text tool call was written as: {report.text_call_family}")
    lines.append(f"  streaming tool-call deltas: {_yes_no(report.streaming_tool_deltas)}")
    if report.context_window is not None:
        lines.append(f"  context window: {report.context_window} ({report.context_source})")
    else:
        lines.append("  context window: unknown (the backend does not expose it)")
    lines.append(f"  prefix caching: {report.prefix_cache}")
    if report.warnings:
        lines.append("  warnings:")
        lines.extend(f"    - {warning}" for warning in report.warnings)
    lines.append(f"  probe took {report.duration_s:.1f} s")
    return "\n".join(lines)
