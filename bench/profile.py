"""Turn a pyinstrument session into 'where did the time go': our code vs the HTTP client vs
the LSP framework vs waiting. Each sample's time goes to the innermost frame that belongs to a
known package, so json.loads called by openai counts as HTTP client, not as stdlib."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pyinstrument.frame import Frame
from pyinstrument.renderers import ConsoleRenderer
from pyinstrument.session import Session

OURS = "claw_lsp (our code)"
HTTP = "HTTP client (openai, httpx2, httpcore, h11, anyio)"
LSP = "LSP framework (pygls, lsprotocol, cattrs)"
PYDANTIC = "pydantic (called by us)"
IDLE = "idle: waiting in select (I/O, subprocesses, other threads)"
LOOP = "asyncio event loop machinery"
OTHER = "other (stdlib/third-party, no owner on the stack)"

_PACKAGES = (
    ("/claw_lsp/", OURS),
    ("/openai/", HTTP),
    ("/httpx2/", HTTP),
    ("/httpx/", HTTP),
    ("/httpcore", HTTP),
    ("/h11/", HTTP),
    ("/anyio/", HTTP),
    ("/sniffio/", HTTP),
    ("/pygls/", LSP),
    ("/lsprotocol/", LSP),
    ("/cattrs/", LSP),
    ("/cattr/", LSP),
    ("/attr/", LSP),
    ("/pydantic", PYDANTIC),
)
_IDLE_FUNCTIONS = {"select", "poll", "epoll", "_poll", "wait"}


@dataclass
class ProfileSummary:
    wall_s: float
    sampled_s: float
    by_category: dict[str, float] = field(default_factory=dict)
    top_ours: list[tuple[str, float]] = field(default_factory=list)
    top_leaves: list[tuple[str, float]] = field(default_factory=list)
    text_path: Path | None = None

    def share(self, category: str, *, busy_only: bool = False) -> float:
        total = self.sampled_s - (self.by_category.get(IDLE, 0.0) if busy_only else 0.0)
        return self.by_category.get(category, 0.0) / total if total else 0.0


def _category(frame: Frame) -> str | None:
    path = (frame.file_path or "").replace("\\", "/")
    for marker, name in _PACKAGES:
        if marker in path:
            return name
    return None


def _walk(
    frame: Frame,
    owner: str | None,
    owner_fn: str | None,
    out: dict[str, float],
    ours: dict[str, float],
    leaves: dict[str, float],
    parent_path: str = "",
) -> None:
    category = _category(frame)
    if category is not None:
        owner = category
        if category == OURS:
            owner_fn = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
    children = [c for c in frame.children if not c.is_synthetic]
    self_time = frame.time - sum(c.time for c in children)
    if self_time > 0:
        if frame.function.rpartition(".")[2] in _IDLE_FUNCTIONS and (
            "selectors" in (frame.file_path or "") or "selectors" in parent_path
        ):
            bucket = IDLE
        elif owner is None:
            in_asyncio = "asyncio" in (frame.file_path or "")
            bucket = LOOP if in_asyncio else OTHER
        else:
            bucket = owner
        out[bucket] += self_time
        if bucket == OURS and owner_fn:
            ours[owner_fn] += self_time
        if bucket != IDLE:
            leaves[f"{frame.function} ({frame.file_path_short}:{frame.line_no})"] += self_time
    for child in children:
        _walk(child, owner, owner_fn, out, ours, leaves, frame.file_path or "")


def summarize_profile(session: Session | Path, text_out: Path, wall_s: float) -> ProfileSummary:
    """Categorise a session (or a saved one) and write its readable call tree to text_out."""
    if isinstance(session, Path):
        session = Session.load(str(session))
    root = session.root_frame()
    out: dict[str, float] = defaultdict(float)
    ours: dict[str, float] = defaultdict(float)
    leaves: dict[str, float] = defaultdict(float)
    if root is not None:
        _walk(root, None, None, out, ours, leaves)
    text_out.parent.mkdir(parents=True, exist_ok=True)
    text_out.write_text(
        ConsoleRenderer(unicode=False, color=False, show_all=False, short_mode=False).render(
            session
        )
    )
    return ProfileSummary(
        wall_s=wall_s,
        sampled_s=sum(out.values()),
        by_category=dict(sorted(out.items(), key=lambda kv: -kv[1])),
        top_ours=sorted(ours.items(), key=lambda kv: -kv[1])[:8],
        top_leaves=sorted(leaves.items(), key=lambda kv: -kv[1])[:10],
        text_path=text_out,
    )
