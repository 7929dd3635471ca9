"""Schemathesis over the whole OpenAPI document, in process (WSGI): every operation, requests that
fit the schema and requests that do not, each sent with every client's credentials; a server error
(5xx) or an answer its operation does not describe (response schema) is a failure. Used by the test
in ``test_schemathesis.py`` (small, in ``make test``) and by ``bench/schemathesis_run.py`` (large).

Hypothesis runs derandomized (its seed comes from each test's name), with no example database and no
deadline, so a run is repeatable and never flaky on a slow machine. Failures are recorded, not
raised, so one run reports every broken operation at once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import hypothesis.errors
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

SCHEMA_PATH = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, response_schema_conformance]


@dataclass
class FuzzReport:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)
    operations: int = 0
    seconds: float = 0.0
    unsatisfiable: list[str] = field(default_factory=list)

    def summary(self) -> str:
        classes = Counter(f"{s // 100}xx" for s in self.statuses.elements())
        return (f"{self.requests} requests over {self.operations} operations in {self.seconds:.0f} s; "
                f"server errors {self.server_errors}; failures {len(self.failures)}; "
                + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))


class _InProcess:
    """Django's WSGI handler closes the database connection at the end of each request; the test's
    transaction must survive the requests, as with Django's test client."""

    def __enter__(self) -> None:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)

    def __exit__(self, *exc: Any) -> None:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def fuzz(clients: dict[str, dict[str, str]], *, max_examples: int, modes: Iterable[GenerationMode] = tuple(
        GenerationMode), operations: str | None = None, in_test: bool = True) -> FuzzReport:
    """Run over every operation (or those whose label contains ``operations``); ``clients`` maps a
    name to the headers it sends (a token of each scope, none for anonymous)."""
    from civicgrid.wsgi import application

    report = FuzzReport()
    started = time.monotonic()
    guard = _InProcess() if in_test else None
    if guard:
        guard.__enter__()
    try:
        schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application)
        for result in schema.get_all_operations():
            op = result.ok()
            if operations and operations not in op.label:
                continue
            report.operations += 1
            for mode in modes:
                _fuzz_operation(op, mode, clients, max_examples, report)
    finally:
        if guard:
            guard.__exit__()
    report.seconds = time.monotonic() - started
    return report


def _fuzz_operation(op: Any, mode: GenerationMode, clients: dict[str, dict[str, str]], max_examples: int,
                    report: FuzzReport) -> None:
    @hypothesis.settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
                         print_blob=False)
    @hypothesis.given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for name, headers in clients.items():
            report.requests += 1
            where = f"{op.label} [{mode.value}, {name}]"
            try:
                response = case.call(headers=headers)
            except (Exception, FailureGroup) as exc:  # the in-process transport raises when the app fails
                report.server_errors += 1
                report.statuses[500] += 1
                report.failures.append(f"{where} raised: {_short(exc)}")
                continue
            report.statuses[response.status_code] += 1
            if response.status_code >= 500:
                report.server_errors += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, FailureGroup) as exc:  # a BaseExceptionGroup: record it, go on
                report.failures.append(f"{where} {response.status_code}: {_short(exc)}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:  # nothing to break in an operation without inputs (negative)
        report.unsatisfiable.append(f"{op.label} [{mode.value}]")


def _short(exc: BaseException) -> str:
    """The failure's first lines and the curl command that reproduces it."""
    lines = [line.strip() for text in [str(exc), *getattr(exc, "__notes__", [])] for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("<", "`"))]
    curl = [line for line in lines if line.startswith("curl ")]
    return " | ".join([line for line in lines if not line.startswith("curl ")][:6] + curl[:1])
