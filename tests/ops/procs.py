"""Real processes for the fault tests: workers (and app servers) started as the service manager
would start them, against the test database, and killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database the test runs on (the test database, committed rows visible)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def environment(tmp: Path, **extra: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update({"DATABASE_URL": database_url(), "CIVICGRID_ENV": "development", "CIVICGRID_DATA_DIR": str(tmp),
                "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), "CIVICGRID_LOG_LEVEL": "INFO",
                "DJANGO_SETTINGS_MODULE": "civicgrid.settings"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """``python -m <args>`` in its own process group, output to ``log``."""
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def worker(env: dict[str, str], log: Path, *args: str, module: str = "civicgrid.cli") -> subprocess.Popen:
    if module == "civicgrid.cli":
        return start([module, "worker", *args], env, log)
    return start([module, *args], env, log)


def kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill9(proc)


def wait_until(predicate: Callable[[], Any], *, timeout: float, what: str, procs: tuple = (), log: Path | None = None,
               every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"process {p.args} ended ({p.returncode}) while waiting for {what}:\n"
                                     + (log.read_text()[-3000:] if log else ""))
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" +
                         (f":\n{log.read_text()[-3000:]}" if log and log.exists() else ""))
