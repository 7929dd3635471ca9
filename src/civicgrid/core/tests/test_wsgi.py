"""The WSGI application freezes the long-lived heap out of full garbage collections after warm-up."""

from __future__ import annotations

import gc

from civicgrid.wsgi import FreezeAfterWarmUp


def test_the_heap_is_frozen_once_after_the_warm_up_requests():
    answered = []

    def app(environ, start_response):
        answered.append(environ["PATH_INFO"])
        return [b"ok"]

    wrapped = FreezeAfterWarmUp(app, after=3)
    gc.unfreeze()
    try:
        for n in range(2):
            assert wrapped({"PATH_INFO": f"/{n}"}, None) == [b"ok"]
        assert gc.get_freeze_count() == 0  # still warming up
        wrapped({"PATH_INFO": "/2"}, None)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        wrapped({"PATH_INFO": "/3"}, None)
        assert gc.get_freeze_count() == frozen  # once only
        assert answered == ["/0", "/1", "/2", "/3"]
    finally:
        gc.unfreeze()
