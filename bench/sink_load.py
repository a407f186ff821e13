"""A webhook load generator: N keep-alive connections POSTing distinct signed deliveries, as fast as answered.

Raw asyncio streams rather than an HTTP client library: on a 2-core machine the generator shares
the CPU with the server and the database, and a client library would spend more per request than
the no-op server does, measuring itself. Each connection sends one request, reads the whole
answer, sends the next. A connection that fails (the server was killed, a reset) is counted,
reopened after a short pause, and goes on: the crash test drives a sink through kill -9 with it.

Every delivery is a PushinPay-shaped notification (a static token header, a JSON body) with an id
of its own, so the ledger of acknowledged (202) event ids can be checked against the inbox: each
must be there, once. Run as a module, it writes its result as JSON:

    python -m bench.sink_load --port P --path /integrations/webhooks/pushinpay/1 --token-env VAR --seconds 10 --out result.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass, field


@dataclass
class Load:
    acked: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0

    def count(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self) -> dict:
        ordered = sorted(self.latencies_s)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

        answered = sum(self.statuses.values())
        return {
            "requests": answered,
            "rps": answered / self.seconds if self.seconds else 0.0,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "statuses": self.statuses,
            "errors": self.errors,
            "acked": len(self.acked),
            "seconds": self.seconds,
        }


def request_bytes(host: str, port: int, path: str, token: str, event: str) -> bytes:
    body = json.dumps({"id": event, "status": "paid", "value": 1234}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"x-pushinpay-token: {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    index: int,
    host: str,
    port: int,
    path: str,
    token: str,
    prefix: str,
    deadline: float,
    load: Load,
    measure_after: float,
) -> None:
    sequence = 0
    writer = None
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port)
            while time.monotonic() < deadline:
                sequence += 1
                event = f"{prefix}-{index}-{sequence}"
                started = time.perf_counter()
                writer.write(request_bytes(host, port, path, token, event))
                status = await _read_answer(reader)
                elapsed = time.perf_counter() - started
                if status == 202:
                    load.acked.append(f"{event}:paid")
                if time.monotonic() >= measure_after:
                    load.latencies_s.append(elapsed)
                    load.count(str(status))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            load.errors += 1
            await asyncio.sleep(0.05)
        finally:
            if writer is not None:
                writer.close()
                writer = None


async def drive(
    *,
    host: str,
    port: int,
    path: str,
    token: str,
    connections: int = 32,
    seconds: float = 10.0,
    warmup_s: float = 1.0,
    prefix: str | None = None,
) -> Load:
    """Load the server for `warmup_s` + `seconds`; latencies and statuses count after the warm-up only,
    the ledger of acknowledged events covers the whole run (every 202 must be stored)."""
    load = Load()
    prefix = prefix or uuid.uuid4().hex[:12]
    start = time.monotonic()
    measure_after = start + warmup_s
    deadline = measure_after + seconds
    await asyncio.gather(
        *(_connection(i, host, port, path, token, prefix, deadline, load, measure_after) for i in range(connections))
    )
    load.seconds = time.monotonic() - measure_after
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--token-env", required=True, help="environment variable holding the webhook token")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--out", required=True, help="where to write the result (JSON, with the ledger)")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        pass
    load = asyncio.run(
        drive(
            host=args.host,
            port=args.port,
            path=args.path,
            token=os.environ[args.token_env],
            connections=args.connections,
            seconds=args.seconds,
            warmup_s=args.warmup,
        )
    )
    with open(args.out, "w") as handle:
        json.dump({**load.summary(), "ledger": load.acked}, handle)


if __name__ == "__main__":
    main()
