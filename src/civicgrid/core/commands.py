"""Base for CivicGrid management commands: clear errors instead of tracebacks, an audit request id
for the whole run, the acting user (``--as``), and progress bars on long work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from civicgrid.core.context import request_context


class CivicCommand(BaseCommand):
    """Subclasses implement :meth:`run`; expected errors become a one-line CommandError."""

    expected_errors: tuple[type[BaseException], ...] = (ValueError, ValidationError, FileNotFoundError)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                            help="record the change in the audit trail as this user (default: system)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args: Any, **options: Any) -> None:
        self.options = options
        with request_context():
            try:
                self.run(*args, **options)
            except CommandError:
                raise
            except self.expected_errors as exc:
                message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                raise CommandError(message) from None

    def run(self, *args: Any, **options: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def actor(self) -> Any:
        username = self.options.get("as_user")
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--as {username}: no active user with that name")
        return user

    def progress(self, total: int, desc: str) -> tuple[Callable[[int], None], Callable[[], None]]:
        """A callback that moves a bar to position n, and one that closes it."""
        if self.options.get("no_progress") or total < 50:
            return (lambda n: None), (lambda: None)
        bar = tqdm(total=total, desc=desc, unit="", leave=False, file=self.stderr._out)

        def update(n: int) -> None:
            bar.update(max(0, n - bar.n))

        def close() -> None:
            bar.update(total - bar.n)
            bar.close()

        return update, close
