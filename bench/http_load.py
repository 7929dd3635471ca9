"""An open-loop HTTP load generator (its own process, plain asyncio, HTTP/1.1 keep-alive).

    python -m bench.http_load --url http://127.0.0.1:8000/api/v1/events --rate 500 --seconds 20 \
        --body-file requests.jsonl [--header 'Authorization: Bearer …'] [--form]

Requests are *scheduled* at a fixed rate, whether or not earlier answers have come back, and each
latency is measured from the moment the request was due — so a server that falls behind shows its
queueing in the latency instead of silently lowering the offered rate (no coordinated omission).
Connections come from a pool (``--connections``); a request that finds none free waits, and that
wait counts. Each line of ``--body-file`` is one request body (JSON, or with ``--form`` a JSON object
sent as ``application/x-www-form-urlencoded``); ``{n}`` in a body is replaced by the request number
(for idempotency keys) and ``--key-header`` sends ``<name>: <run>-<n>`` on each request.

Prints one JSON object: offered and achieved rate, status counts, latency percentiles (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.parse
from pathlib import Path


class Pool:
    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self.free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
        for _ in range(size):
            self.free.put_nowait(None)  # opened on first use

    async def get(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        conn = await self.free.get()
        if conn is None:
            conn = await asyncio.open_connection(self.host, self.port)
        return conn

    def put(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        self.free.put_nowait(conn)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _sep, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, close


async def run(args: argparse.Namespace) -> dict[str, object]:
    url = urllib.parse.urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = url.path + (f"?{url.query}" if url.query else "")
    bodies = [line for line in Path(args.body_file).read_text(encoding="utf-8").splitlines() if line.strip()] \
        if args.body_file else [""]
    extra = "".join(f"{h}\r\n" for h in args.header)
    content_type = "application/x-www-form-urlencoded" if args.form else "application/json"
    run_id = f"{int(time.time() * 1000) % 10**9}"
    pool = Pool(host, port, args.connections)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    total = int(args.rate * args.seconds)
    interval = 1.0 / args.rate

    async def one(n: int, due: float) -> None:
        body = bodies[n % len(bodies)].replace("{n}", f"{run_id}-{n}")
        if args.form:
            body = urllib.parse.urlencode(json.loads(body))
        data = body.encode("utf-8")
        head = (f"{args.method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
                + (f"{args.key_header}: {run_id}-{n}\r\n" if args.key_header else "")
                + (f"Content-Type: {content_type}\r\nContent-Length: {len(data)}\r\n" if args.method != "GET" else "")
                + "\r\n").encode("latin-1")
        conn = None
        try:
            conn = await pool.get()
            reader, writer = conn
            writer.write(head + (data if args.method != "GET" else b""))
            status, close = await asyncio.wait_for(_read_response(reader), timeout=args.timeout)
            key = str(status)
            if close:
                writer.close()
                conn = None
        except Exception as exc:  # a refused or dropped connection, a timeout: an error, counted
            key = type(exc).__name__
            if conn is not None:
                conn[1].close()
            conn = None
        finally:
            pool.put(conn)
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[key] = statuses.get(key, 0) + 1

    start = time.perf_counter() + 0.05
    tasks = []
    for n in range(total):
        due = start + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 1) if latencies else 0.0

    ok = sum(v for k, v in statuses.items() if k.isdigit() and 200 <= int(k) < 300)
    return {"offered_rate": args.rate, "requests": total, "seconds": round(elapsed, 2),
            "achieved_rate": round(ok / elapsed, 1), "ok": ok, "statuses": statuses,
            "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": round(latencies[-1], 1) if latencies
            else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load")
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="POST")
    parser.add_argument("--rate", type=float, required=True, help="requests per second, scheduled")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--body-file")
    parser.add_argument("--form", action="store_true")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--key-header", default="")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
