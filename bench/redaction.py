"""Cost of redaction and escaping on a 24 KB tool result (issue 13). Not a test: prints times
and ratios to json.dumps of the same text, which every tool result pays anyway.

    .venv/bin/python -m bench.redaction
"""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import string
import time
from collections.abc import Callable
from pathlib import Path

from claw_lsp.foundation.escape import escape_for_display
from claw_lsp.foundation.secrets import redact, register_secret

SIZE = 24_000
ROOT = Path(__file__).resolve().parent.parent


def samples() -> dict[str, str]:
    rng = random.Random(9)
    code = "".join(p.read_text() for p in sorted((ROOT / "claw_lsp").rglob("*.py")))[:SIZE]
    rows = "\n".join(
        f"claw_lsp/pkg_{i % 40}/mod_{i}.py:{i}:    value = compute(alpha_{i}, beta) + offset"
        for i in range(1000)
    )[:SIZE]
    blob = base64.b64encode(os.urandom(SIZE)).decode()[:SIZE]
    records = json.dumps(
        [
            {"id": i, "name": f"item{i}", "tags": ["a", "b"], "url": "https://e.x/p"}
            for i in range(400)
        ]
    )[:SIZE]
    words = " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
        for _ in range(SIZE // 5)
    )[:SIZE]
    secrets_file = ("API_KEY=sk-proj-" + "a1B2c3D4" * 5 + "\npassword = 'hunter2'\n" + code)[:SIZE]
    return {
        "python source": code,
        "grep rows": rows,
        "base64 blob": blob,
        "JSON records": records,
        "prose": words,
        "source with secrets": secrets_file,
    }


def median_ms(run: Callable[[], object], rounds: int = 30) -> float:
    run()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    texts = samples()
    print(f"load average: {os.getloadavg()}")
    header = "| sample | json.dumps | redact, no key | redact, key registered | escape |"
    print(header + "\n|---|---|---|---|---|")
    plain = {name: median_ms(lambda t=t: redact(t)) for name, t in texts.items()}
    register_secret("sk-live-" + "".join(random.Random(3).choices(string.ascii_letters, k=40)))
    for name, text in texts.items():
        dumps = median_ms(lambda t=text: json.dumps(t))
        keyed = median_ms(lambda t=text: redact(t))
        escaped = median_ms(lambda t=text: escape_for_display(t, multiline=True))
        print(
            f"| {name} | {dumps:.3f} ms | {plain[name]:.3f} ms ({plain[name] / dumps:.1f}x) | "
            f"{keyed:.3f} ms ({keyed / dumps:.1f}x) | {escaped:.3f} ms |"
        )


if __name__ == "__main__":
    main()
