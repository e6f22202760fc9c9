"""Issue 22, item 4: the client's cost per request through the openai SDK against httpx
directly (the same origin-guarded pooled client, body and SSE reader), against the keep-alive
scripted server; 3 interleaved rounds of N requests with a growing history. Gap = reply
flushed -> next request, timed by the server. The decision for llm/openai_compat.py.

    .venv/bin/python -m bench.sdk_vs_httpx [N]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
from typing import Any

from bench.common import read_call
from bench.overhead import OverheadModel
from claw_lsp.llm.origin import guarded_http_client
from claw_lsp.llm.stream_reply import read_stream

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def body(history: list[dict[str, Any]]) -> dict[str, Any]:
    tools = [
        {
            "type": "function",
            "function": {
                "name": f"tool_{i}",
                "description": "d" * 200,
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
            },
        }
        for i in range(14)
    ]
    return {"messages": [{"role": "system", "content": "s" * 8000}, *history], "tools": tools}


class Wrap:
    def __init__(self, response: Any) -> None:
        self.response = response

    def iter_bytes(self) -> Any:
        return self.response.aiter_bytes()


async def run(kind: str, model: OverheadModel) -> None:
    import openai

    base = model.base_url
    if kind == "sdk":
        client = openai.AsyncOpenAI(
            base_url=base, api_key="k", max_retries=0, http_client=guarded_http_client(base)
        )
    else:
        http = guarded_http_client(base, timeout=openai.Timeout(120, connect=5, write=30, pool=5))
    history = [{"role": "user", "content": "go"}]
    for i in range(N):
        b = body(history)
        if kind == "sdk":
            kwargs = {
                "model": "m",
                "messages": [],
                "stream": True,
                "stream_options": {"include_usage": True},
                "extra_body": b,
            }
            async with client.chat.completions.with_streaming_response.create(**kwargs) as response:
                reply = await read_stream(response, lambda t: None, lambda t: None)
        else:
            payload = {"model": "m", "stream": True, "stream_options": {"include_usage": True}, **b}
            async with http.stream(
                "POST",
                base + "/chat/completions",
                content=json.dumps(payload).encode(),
                headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
            ) as response:
                reply = await read_stream(Wrap(response), lambda t: None, lambda t: None)
        call = reply.tool_calls[0]
        history.append(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": call.id + str(i),
                        "type": "function",
                        "function": {"name": call.name, "arguments": "{}"},
                    }
                ],
            }
        )
        history.append({"role": "tool", "tool_call_id": call.id + str(i), "content": "x" * 300})


async def main() -> None:
    results: dict[str, list[float]] = {}
    for _ in range(3):
        for kind in ("sdk", "httpx"):
            model = OverheadModel().start()
            model.add(*[read_call("a.py") for _ in range(N)])
            await run(kind, model)
            gaps = [model.arrivals[i + 1] - model.flushed[i] for i in range(N - 1)]
            results.setdefault(kind, []).extend(gaps)
            results.setdefault(kind + " conns", []).append(model.connections)
            model.stop()
    for kind in ("sdk", "httpx"):
        gaps = sorted(results[kind])
        median_ms = statistics.median(gaps) * 1000
        p90_ms = gaps[int(len(gaps) * 0.9)] * 1000
        conns = results[kind + " conns"]
        print(f"{kind}: gap median {median_ms:.3f} ms, p90 {p90_ms:.3f} ms, connections {conns}")
    ratio = statistics.median(results["sdk"]) / statistics.median(results["httpx"])
    print(f"ratio sdk/httpx {ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
