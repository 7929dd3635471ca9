"""Decompression bombs: a small file that claims huge dimensions is refused from its header, before
anything is decoded, and photos within the limits are decoded and stored at a bounded size."""

from __future__ import annotations

import base64
import io
import json
import time
import tracemalloc

import pytest
from PIL import Image

from civicgrid.cases.models import Case
from civicgrid.events import services as ev
from civicgrid.events.photos import PhotoUpload, media_root
from civicgrid.events.tests.conftest import report

pytestmark = pytest.mark.django_db


def png(width: int, height: int, mode: str = "L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """The finding: a few dozen KB on disk, 36 megapixels once decoded (under Pillow's own guard and
    the 40-megapixel limit of camera photos: decoding it took 0.8 s of CPU and 220 MB)."""
    return png(6000, 6000)


def test_a_png_far_beyond_pillows_own_guard_is_refused_as_too_many_pixels_too(world, units):
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, photos=[PhotoUpload("huge.png", png(15000, 15000))])
    assert "Photo 1 has too many pixels (at most 40 megapixels)" in info.value.fields["photos"]


def test_a_png_bomb_is_refused_cheaply_from_its_header(world, units, bomb):
    assert len(bomb) < 150_000
    tracemalloc.start()
    started = time.process_time()
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, photos=[PhotoUpload("a.png", png(8, 8, "RGB")), PhotoUpload("bomb.png", bomb)])
    spent = time.process_time() - started
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    message = info.value.fields["photos"]
    assert "Photo 2 has too many pixels (at most 12 megapixels)" in message
    assert spent < 0.5 and peak < 20 * 2**20  # decoding it took 0.8 s and 220 MB
    assert not Case.objects.exists()


def test_a_lossless_image_has_a_lower_cap_than_a_camera_jpeg(world, units, settings):
    settings.CIVICGRID_EVENT_PHOTO_MAX_PIXELS_LOSSLESS = 1_000_000
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, photos=[PhotoUpload("wide.png", png(1100, 1000))])
    assert "at most 1 megapixels" in info.value.fields["photos"]
    out = io.BytesIO()
    Image.new("RGB", (1100, 1000)).save(out, format="JPEG")
    assert report(units.rita, photos=[PhotoUpload("wide.jpg", out.getvalue())]).created


def test_the_pixel_limit_is_a_setting(world, units, settings):
    settings.CIVICGRID_EVENT_PHOTO_MAX_PIXELS = 1_000_000
    out = io.BytesIO()
    Image.new("RGB", (1001, 1000)).save(out, format="JPEG")
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, photos=[PhotoUpload("big.jpg", out.getvalue())])
    assert "too many pixels" in info.value.fields["photos"]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_large_photo_is_stored_no_larger_than_the_long_side_setting(world, units, settings, fmt):
    settings.CIVICGRID_EVENT_PHOTO_MAX_SIDE = 400
    out = io.BytesIO()
    Image.new("RGB", (1600, 900), (200, 30, 30)).save(out, format=fmt)
    case = report(units.rita, photos=[PhotoUpload("p", out.getvalue())]).case
    meta = case.event.photos[0]
    stored = Image.open(media_root() / meta["path"])
    assert stored.size == (400, 225) and (meta["width"], meta["height"]) == (400, 225)


def test_the_api_answers_a_bomb_with_422_naming_the_photos_field(client, world, bomb):
    body = {"text": "路面坑洼", "photos": [{"name": "b.png", "content_base64": base64.b64encode(bomb).decode()}]}
    response = client.post("/api/v1/events", json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert "像素过多" in response.json()["error"]["fields"]["photos"][0]
