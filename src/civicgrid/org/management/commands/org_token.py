"""``civicgrid org token``: API tokens for other systems (接口令牌).

    civicgrid org token create --user hotline_bot --name "12345 hotline" --scopes intake,read [--days 365]
    civicgrid org token list [--user NAME]
    civicgrid org token revoke PREFIX
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from civicgrid.core.commands import CivicCommand
from civicgrid.org.models import ApiToken, TokenScope, User
from civicgrid.org.services import TOKEN_PREFIX, token_create, token_revoke


class Command(CivicCommand):
    help = "API tokens: create one for a user (shown once), list them, revoke one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="a token acting as USER within SCOPES (the secret is shown once)")
        create.add_argument("--user", required=True, help="the account the token acts as")
        create.add_argument("--name", required=True, help="which system uses it")
        create.add_argument("--scopes", required=True,
                            help=f"comma-separated: {', '.join(TokenScope.values)}")
        create.add_argument("--days", type=int, default=None, help="expire after this many days (default: never)")
        super().add_arguments(create)
        lst = sub.add_parser("list", help="tokens, newest first (prefix, user, scopes, state)")
        lst.add_argument("--user", default=None)
        revoke = sub.add_parser("revoke", help="refuse a token from now on")
        revoke.add_argument("prefix", help="the token's prefix (the 8 characters after cg_) or the whole token")
        super().add_arguments(revoke)

    def run(self, *args: Any, **o: Any) -> None:
        getattr(self, f"_{o['action']}")(**o)

    def _create(self, **o: Any) -> None:
        user = User.objects.filter(username=o["user"]).first()
        if user is None:
            raise CommandError(f"--user {o['user']}: no such user")
        if o["days"] is not None and o["days"] < 1:
            raise CommandError("--days must be at least 1")
        expires = timezone.now() + dt.timedelta(days=o["days"]) if o["days"] else None
        scopes = [s.strip() for s in o["scopes"].split(",") if s.strip()]
        token, text = token_create(actor=self.actor(), user=user, name=o["name"], scopes=scopes, expires_at=expires)
        self.stdout.write(f"token {token.prefix} for {user.get_username()} ({', '.join(token.scopes)})"
                          + (f", expires {timezone.localtime(expires):%Y-%m-%d}" if expires else ""))
        self.stdout.write("the token (shown once, keep it secret):")
        self.stdout.write(text)

    def _list(self, **o: Any) -> None:
        qs = ApiToken.objects.select_related("user")
        if o["user"]:
            qs = qs.filter(user__username=o["user"])
        now = timezone.now()
        self.stdout.write(f"{'prefix':<10} {'user':<16} {'scopes':<20} {'state':<9} name")
        for t in qs:
            state = ("revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now else "active")
            self.stdout.write(f"{t.prefix:<10} {t.user.get_username():<16} {','.join(t.scopes):<20} {state:<9} "
                              f"{t.name}")

    def _revoke(self, **o: Any) -> None:
        prefix = o["prefix"]
        if prefix.startswith(TOKEN_PREFIX):
            prefix = prefix[len(TOKEN_PREFIX):].split("_", 1)[0]
        token = ApiToken.objects.filter(prefix=prefix).select_related("user").first()
        if token is None:
            raise CommandError(f"no token with prefix {prefix}")
        token_revoke(actor=self.actor(), token=token)
        self.stdout.write(f"token {token.prefix} ({token.name}) revoked")
