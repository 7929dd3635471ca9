from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    verbose_name = "核心"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from civicgrid.core import checks  # noqa: F401  (database, secret key, proxy hops)
        from civicgrid.core.appendonly import post_migrate_install, sqlite_register

        # SQLite's append-only guards (core/appendonly.py): every connection knows the function the
        # triggers ask, and every migrate (re)creates the triggers.
        connection_created.connect(sqlite_register, dispatch_uid="civicgrid_append_only_function")
        post_migrate.connect(post_migrate_install, dispatch_uid="civicgrid_append_only_triggers")
