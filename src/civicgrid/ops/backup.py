"""Backup and restore (备份与恢复) of the database and the stored files (docs/operations.md).

A backup is a directory::

    manifest.json       what was backed up: when, which database, the migrations, the row count of
                        every table, every stored file with its SHA-256, and the *fingerprints* of
                        the encryption and hash keys (never the keys)
    database.dump       PostgreSQL: ``pg_dump --format=custom`` of one consistent snapshot
    database.sqlite3    SQLite: a copy made with SQLite's online backup API
    media/              the stored files (photos of reports and of work done), as under the media root

The database is copied first, then the files: a file is written before the transaction that names
it commits, and files are never changed (their name is their hash), so every file the copied
database names is in the copy. On PostgreSQL the row counts are taken in the very snapshot
``pg_dump`` copies (``pg_export_snapshot``), so they match the dump exactly while the city keeps
working.

The keys are not in the backup, on purpose: phone and identity numbers in it are encrypted under
``CIVICGRID_ENCRYPTION_KEYS`` — a backup without its key is unreadable, and a key without a backup
is useless. Keep them apart (the key in the secret store), and keep each retired key as long as the
oldest backup made under it. A restore refuses to start when none of the backup's keys is
configured, and after restoring it decrypts a sample of every encrypted column to prove it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import dj_database_url
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from civicgrid.events.photos import media_root

FORMAT = 1
SAMPLE = 200  # encrypted values decrypted per column to prove the key


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why and what to do."""


def key_fingerprint(key: str) -> str:
    """A short, one-way name for a key: says which key a backup needs without holding it."""
    return hashlib.sha256(f"civicgrid-key:{key}".encode()).hexdigest()[:16]


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _encrypted_columns() -> list[tuple[str, str]]:
    from civicgrid.privacy.fields import encrypted_fields

    return sorted({(m._meta.db_table, f.column) for m in apps.get_models() for f in encrypted_fields(m)})


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


@dataclass
class Target:
    """A database named by a URL (the configured one unless told otherwise)."""

    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_url(cls, url: str | None) -> Target:
        if not url:
            s = settings.DATABASES["default"]
            return cls(engine="sqlite" if "sqlite" in s["ENGINE"] else "postgresql", name=str(s["NAME"]),
                       user=s.get("USER") or "", password=s.get("PASSWORD") or "", host=s.get("HOST") or "",
                       port=str(s.get("PORT") or ""))
        parsed = dj_database_url.parse(url)
        engine = "sqlite" if "sqlite" in parsed["ENGINE"] else "postgresql"
        if engine == "postgresql":  # dj_database_url keeps these; read them from the URL itself too
            u = urlparse(url)
            return cls(engine=engine, name=unquote(u.path.lstrip("/")), user=unquote(u.username or ""),
                       password=unquote(u.password or ""), host=u.hostname or "", port=str(u.port or ""))
        return cls(engine=engine, name=str(parsed["NAME"]))

    def pg_env(self) -> dict[str, str]:
        """libpq's variables: the password never appears in a process list."""
        env = dict(os.environ)
        env.update({k: v for k, v in {"PGHOST": self.host, "PGPORT": self.port, "PGUSER": self.user,
                                      "PGPASSWORD": self.password, "PGDATABASE": self.name}.items() if v})
        return env

    def pg_connect(self, **kwargs: Any) -> Any:
        import psycopg

        return psycopg.connect(dbname=self.name, user=self.user or None, password=self.password or None,
                               host=self.host or None, port=self.port or None, **kwargs)

    def sqlite_connect(self) -> sqlite3.Connection:
        # (an in-memory database shared in the process is named by a URI: the tests' database)
        return sqlite3.connect(self.name, uri=self.name.startswith("file:"))

    def counts(self, tables: list[str]) -> dict[str, int]:
        if self.engine == "sqlite":
            with self.sqlite_connect() as db:
                return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        with self.pg_connect() as db:
            return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}

    def sample(self, table: str, column: str) -> list[str]:
        sql = f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> \'\' LIMIT {SAMPLE}'
        if self.engine == "sqlite":
            with self.sqlite_connect() as db:
                return [r[0] for r in db.execute(sql)]
        with self.pg_connect() as db:
            return [r[0] for r in db.execute(sql)]


def _major(text: str) -> int:
    m = re.search(r"(\d+)(?:\.\d+)?", text)
    if not m:
        raise BackupError(f"cannot read a PostgreSQL version from {text!r}")
    return int(m.group(1))


def pg_tool(name: str, server_major: int) -> tuple[str, int]:
    """The path and major version of ``pg_dump``/``pg_restore``, refused when older than the server
    (an older pg_dump cannot read a newer server; Debian keeps one per version under
    /usr/lib/postgresql/<major>/bin)."""
    candidates = [f"/usr/lib/postgresql/{server_major}/bin/{name}", shutil.which(name) or ""]
    for path in candidates:
        if path and Path(path).exists():
            out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
            major = _major(out.split("(PostgreSQL)", 1)[-1])  # "pg_dump (PostgreSQL) 15.20 (Debian …)"
            if major >= server_major:
                return path, major
    raise BackupError(f"no {name} of PostgreSQL {server_major} or newer is installed (the server is "
                      f"{server_major}): install postgresql-client-{server_major}")


@dataclass
class Manifest:
    data: dict[str, Any]

    @property
    def rows(self) -> dict[str, int]:
        return self.data["rows"]

    @property
    def files(self) -> dict[str, str]:
        return self.data["files"]

    def summary(self) -> str:
        cases = self.rows.get("cases_case", 0)
        audit = self.rows.get("audit_auditentry", 0)
        return (f"{self.data['engine']} database ({len(self.rows)} tables, {cases} cases, {audit} audit rows), "
                f"{len(self.files)} stored files")


def _media_files(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): _file_hash(p) for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".tmp")}


def backup_create(dest: Path) -> Manifest:
    """Write a backup of the configured database and the media root into the new directory ``dest``."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty: name a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    connection.ensure_connection()
    tables = _tables()
    info: dict[str, Any] = {"format": FORMAT, "created_at": timezone.now().isoformat(), "engine": connection.vendor,
                            "migrations": _migrations(), "encrypted_columns": [list(c) for c in _encrypted_columns()],
                            "keys": {"encryption": [key_fingerprint(k) for k in settings.CIVICGRID_ENCRYPTION_KEYS],
                                     "hash": key_fingerprint(str(settings.CIVICGRID_HASH_KEY))}}
    here = Target.from_url(None)
    if connection.vendor == "postgresql":
        server = connection.pg_version // 10000
        pg_dump, dump_major = pg_tool("pg_dump", server)
        info["postgresql"] = {"server": server, "pg_dump": dump_major}
        # Counted in the snapshot pg_dump copies: the manifest matches the dump row for row.
        import psycopg

        with here.pg_connect(autocommit=False) as snap:
            snap.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            snapshot = snap.execute("SELECT pg_export_snapshot()").fetchone()[0]
            info["rows"] = {t: snap.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            done = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                                   f"--snapshot={snapshot}", f"--file={dest / 'database.dump'}"],
                                  env=here.pg_env(), capture_output=True, text=True)
            snap.rollback()
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[-2000:]}")
    else:
        target = sqlite3.connect(dest / "database.sqlite3")
        try:
            connection.connection.backup(target)  # the online backup API: a consistent copy while in use
        finally:
            target.close()
        info["rows"] = Target(engine="sqlite", name=str(dest / "database.sqlite3")).counts(tables)
    root = media_root()
    info["files"] = _media_files(root)
    for rel in info["files"]:
        (dest / "media" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dest / "media" / rel)
    # The files copied must be the files hashed (they never change, but a disk may lie).
    copied = _media_files(dest / "media")
    if copied != info["files"]:
        raise BackupError("the stored files changed or could not be read while they were copied: run it again")
    (dest / "manifest.json").write_text(json.dumps(info, indent=1, ensure_ascii=False))
    return Manifest(info)


def manifest_read(src: Path) -> Manifest:
    path = Path(src) / "manifest.json"
    if not path.exists():
        raise BackupError(f"{src} is not a CivicGrid backup (no manifest.json)")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise BackupError(f"backup format {data.get('format')!r} is not {FORMAT}")
    return Manifest(data)


def keys_check(manifest: Manifest) -> None:
    """Refuse a restore that could not be read: none of the backup's encryption keys is configured,
    or the hash key differs (exact search for phone numbers would find nothing)."""
    configured = {key_fingerprint(k) for k in settings.CIVICGRID_ENCRYPTION_KEYS}
    needed = manifest.data["keys"]["encryption"]
    if not configured & set(needed):
        raise BackupError("none of the encryption keys this backup was made under is in CIVICGRID_ENCRYPTION_KEYS "
                          f"(it needs the key with fingerprint {needed[0]}; `civicgrid ops fingerprint` names "
                          "the configured ones): without it the backup's phone and identity numbers are unreadable")
    if key_fingerprint(str(settings.CIVICGRID_HASH_KEY)) != manifest.data["keys"]["hash"]:
        raise BackupError("CIVICGRID_HASH_KEY differs from the one this backup was made under (fingerprint "
                          f"{manifest.data['keys']['hash']}): set it first, or searching by phone finds nothing")


@dataclass
class RestoreReport:
    manifest: Manifest
    target: str
    files_copied: int = 0
    files_present: int = 0
    decrypted: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"restored {self.manifest.summary()} into {self.target}; files: {self.files_copied} copied, "
                f"{self.files_present} already there; {self.decrypted} encrypted values decrypted with the "
                f"configured keys; every table's row count matches the backup")


def _empty(target: Target) -> bool:
    if target.engine == "sqlite":
        path = Path(target.name)
        if not target.name.startswith("file:") and (not path.exists() or path.stat().st_size == 0):
            return True
        with target.sqlite_connect() as db:
            return db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0
    with target.pg_connect() as db:
        return db.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                          ).fetchone()[0] == 0


def backup_restore(src: Path, *, database_url: str | None = None, media: Path | None = None) -> RestoreReport:
    """Restore the backup in ``src`` into an *empty* database (the configured one, or ``database_url``)
    and the media root (or ``media``); then check every table's row count, every file's hash and
    that the configured keys decrypt the encrypted columns."""
    src = Path(src)
    manifest = manifest_read(src)
    keys_check(manifest)
    target = Target.from_url(database_url)
    if target.engine != manifest.data["engine"].replace("sqlite3", "sqlite"):
        raise BackupError(f"this is a {manifest.data['engine']} backup; the target database is {target.engine}")
    if not _empty(target):
        raise BackupError(f"the database {target.name} is not empty: restore into a new, empty database")
    if target.engine == "postgresql":
        with target.pg_connect() as db:
            server = db.info.server_version // 10000
        pg_restore = pg_tool("pg_restore", server)[0]
        done = subprocess.run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                               f"--dbname={target.name}", str(src / "database.dump")],
                              env=target.pg_env(), capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_restore failed (nothing was restored): {done.stderr.strip()[-2000:]}")
    else:
        if not target.name.startswith("file:"):
            Path(target.name).parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(src / "database.sqlite3")
        dest = target.sqlite_connect()
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
    report = RestoreReport(manifest=manifest, target=f"{target.engine}:{target.name}")
    root = Path(media) if media is not None else media_root()
    for rel, sha in manifest.files.items():
        there = root / rel
        if there.exists():
            if _file_hash(there) != sha:
                raise BackupError(f"{there} exists with other content: restore into an empty media root")
            report.files_present += 1
            continue
        there.parent.mkdir(parents=True, exist_ok=True)
        tmp = there.with_suffix(there.suffix + ".tmp")
        shutil.copy2(src / "media" / rel, tmp)
        tmp.replace(there)
        report.files_copied += 1
    # Check what is there now, not what was meant to be.
    counts = target.counts(list(manifest.rows))
    wrong = {t: (n, counts.get(t)) for t, n in manifest.rows.items() if counts.get(t) != n}
    if wrong:
        raise BackupError(f"row counts differ after the restore (table: backup, restored): {wrong}")
    for rel, sha in manifest.files.items():
        if _file_hash(root / rel) != sha:
            raise BackupError(f"{root / rel} does not match the backup")
    from civicgrid.privacy.crypto import DecryptionError, decrypt

    for table, column in manifest.data["encrypted_columns"]:
        for value in target.sample(table, column):
            try:
                decrypt(value)
            except DecryptionError:
                raise BackupError(f"{table}.{column} holds values the configured keys cannot decrypt: add the key "
                                  "the backup was made under to CIVICGRID_ENCRYPTION_KEYS") from None
            report.decrypted += 1
    return report

