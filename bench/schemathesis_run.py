"""Schemathesis over the whole JSON API on PostgreSQL, at volume: no generated request may answer a
server error or an answer its operation does not describe.

    python -m bench.schemathesis_run [--max-examples 72] [--events 300]

The demo city 云川市 with ``--events`` events in every state is loaded into a fresh PostgreSQL
database (``civicgrid_bench_schemathesis``). Schemathesis reads ``/api/v1/openapi.json`` from the
app (in process, WSGI, DEBUG off, no rate limit so the code behind it is reached) and, for every
operation, generates requests that fit the schema and requests that do not (``--max-examples`` of
each, derandomized), each sent by four clients: anonymous, and API tokens with the ``read``,
``write`` and ``intake`` scopes (the city dispatcher's for read and write, the city administrator's
for intake). Checks: ``not_a_server_error`` and ``response_schema_conformance``. The small version of
this runs in ``make test`` (``civicgrid/api/tests/test_schemathesis.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

from bench.django_env import fresh_database, postgres_available, setup_django
from bench.report import machine_description, markdown_table, print_table, write_section

DB = "civicgrid_bench_schemathesis"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=72, help="per operation, mode and client")
    parser.add_argument("--events", type=int, default=300, help="demo events loaded first")
    parser.add_argument("--no-write", action="store_true", help="print, do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not postgres_available():
        print("PostgreSQL is not reachable (CIVICGRID_BENCH_PG): skipped")
        return 0
    os.environ["CIVICGRID_RATE_PUBLIC_PER_MINUTE"] = "0"
    os.environ["CIVICGRID_GC_FREEZE_AFTER"] = "0"
    setup_django(fresh_database("postgres", DB))
    from django.core.management import call_command

    from civicgrid.api.tests.fuzz import fuzz
    from civicgrid.org.models import User
    from civicgrid.org.services import token_create

    started = time.monotonic()
    call_command("demo_load", events=args.events, no_progress=True, verbosity=0)
    load_s = time.monotonic() - started

    def bearer(username: str, scope: str) -> dict[str, str]:
        _token, text = token_create(actor=None, user=User.objects.get(username=username), name=f"fuzz {scope}",
                                    scopes=[scope])
        return {"Authorization": f"Bearer {text}"}

    clients = {"anonymous": {}, "read": bearer("city_dispatcher", "read"),
               "write": bearer("city_dispatcher", "write"), "intake": bearer("admin", "intake")}
    load_before = os.getloadavg()
    result = fuzz(clients, max_examples=args.max_examples, in_test=False)
    load_after = os.getloadavg()
    print(result.summary())
    for line in result.failures[:50]:
        print("FAILURE", line)
    classes = {f"{k}xx": sum(v for s, v in result.statuses.items() if s // 100 == k) for k in (2, 3, 4, 5)}
    headers = ["requests", "operations", "server errors (5xx)", "schema violations", "2xx", "4xx", "seconds",
               "requests/s"]
    violations = len(result.failures) - result.server_errors
    row = [f"{result.requests:,}", result.operations, result.server_errors, max(violations, 0),
           f"{classes['2xx']:,}", f"{classes['4xx']:,}", f"{result.seconds:.0f}",
           f"{result.requests / result.seconds:.0f}"]
    print_table(headers, [row])
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(result.statuses.items()))
    import schemathesis

    command = "python -m bench.schemathesis_run" + (f" --max-examples {args.max_examples}"
                                                    if args.max_examples != 72 else "")
    md = (
        "## Schemathesis over the whole API (PostgreSQL)\n\n"
        f"- Command: `{command}` ({dt.date.today().isoformat()}); schemathesis {schemathesis.__version__}, "
        f"in process (WSGI), DEBUG off, no rate limit\n"
        f"- Machine: {machine_description()}; load average {load_before[0]:.1f} before the run, "
        f"{load_after[0]:.1f} after it (other work shared the cores)\n"
        f"- Data: the demo city with {args.events} events ({load_s:.0f} s to load); clients: anonymous and "
        "API tokens with the read, write and intake scopes\n"
        f"- Every operation of `/api/v1/openapi.json`, requests that fit the schema and requests that do not "
        f"(up to {args.max_examples} of each per client, derandomized); checks `not_a_server_error` and "
        "`response_schema_conformance`\n\n"
        + markdown_table(headers, [row])
        + f"\n\nStatus codes: {statuses}.\n\n"
        "What this covers: every input the schema allows or forbids, from every kind of client; most "
        "requests are refused (401/403: a token without the operation's scope; 404: generated ids that "
        "name no case), so it tests the refusals and validation broadly, not the workflows in depth (the "
        "engine's own tests do that).\n"
    )
    if result.failures:
        md += "\nFailures:\n\n" + "\n".join(f"- {f[:300]}" for f in result.failures[:20]) + "\n"
    if not args.no_write:
        write_section("schemathesis", md)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
