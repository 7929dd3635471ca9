"""Print the PostgreSQL URL the test suite should use, or nothing when none answers.

``DATABASE_URL`` wins when it points at PostgreSQL; otherwise 127.0.0.1:5432 is tried (the local
trust-auth server of the development machines and CI). Exit 1 under CI=true when none answers.
"""

from __future__ import annotations

import os
import socket
import sys

url = os.environ.get("DATABASE_URL", "")
if url.startswith(("postgres://", "postgresql://")):
    print(url)
    sys.exit(0)
try:
    with socket.create_connection(("127.0.0.1", 5432), timeout=2):
        print("postgres://postgres@127.0.0.1:5432/test")
        sys.exit(0)
except OSError:
    pass
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    print("CI=true but no PostgreSQL answers on 127.0.0.1:5432 and DATABASE_URL is not PostgreSQL", file=sys.stderr)
    sys.exit(1)
print("note: no PostgreSQL answers on 127.0.0.1:5432; the PostgreSQL run is skipped", file=sys.stderr)
