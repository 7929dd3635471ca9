"""Model versions stay numbered one after another and exactly one stays active when two trainings
store a model at the same moment (the loser of the unique version retries with the next number).

The threaded test needs PostgreSQL (two connections; SQLite serialises writers): the lead's
PostgreSQL pass runs it. On SQLite, a competitor's row is written in the very moment the version is
picked, so the first insert really meets the unique constraint."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from civicgrid.dispatch import services
from civicgrid.dispatch.models import DispatchModel
from civicgrid.dispatch.tests.conftest import messages
from civicgrid.dispatch.textmodel import TextModel


@pytest.fixture(scope="module")
def model():
    titles, bodies, labels = messages(12)
    return TextModel.fit(titles, bodies, labels, lsa_dim=0)


def test_a_version_taken_at_the_same_moment_is_retried_with_the_next_number(db, model):
    competitor = {"inserted": 0}

    def steal_the_number(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "dispatch_dispatchmodel"') and not competitor["inserted"]:
            competitor["inserted"] += 1
            # Another training stores version 1 (and makes it active) just before this insert lands.
            execute('INSERT INTO "dispatch_dispatchmodel" (version, created_at, source, documents, metrics, '
                    'is_active, sha256, size, blob) VALUES (1, %s, %s, 0, %s, %s, %s, 0, %s)',
                    (params[1], "competitor", "{}", True, "0" * 64, b""), many, context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(steal_the_number):
        row = services.model_store(actor=None, model=model, source="mine")
    assert competitor["inserted"] == 1
    assert row.is_active and DispatchModel.objects.get(is_active=True).source == "mine"
    assert list(DispatchModel.objects.values_list("source", flat=True)) == ["mine"]


on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="two transactions at the same moment need PostgreSQL")


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_trainings_stored_at_the_same_moment_get_their_own_versions(model):
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def store(name: str) -> None:
        try:
            barrier.wait(timeout=20)
            services.model_store(actor=None, model=model, source=name)
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=store, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(DispatchModel.objects.values_list("version", flat=True)) == [1, 2]
    assert DispatchModel.objects.filter(is_active=True).count() == 1
