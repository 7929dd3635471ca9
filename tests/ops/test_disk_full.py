"""A full disk when a report's photos are stored: the reporter is told plainly that nothing was
saved and to send it again later (API: 503 with Retry-After; page: the message at the photos
field), no event is created and no partial file is left; sent again once there is room, it goes in."""

from __future__ import annotations

import base64
import errno
import io
import os
from pathlib import Path

import pytest
from django.test import Client

from civicgrid.cases.models import Case

from .conftest import jpeg

pytestmark = pytest.mark.django_db


class FullDisk(io.FileIO):
    """A file on a full disk: half of what is written gets in, then the write fails (ENOSPC)."""

    def write(self, data) -> int:
        super().write(bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def disk_full(monkeypatch, media_root):
    real_open = Path.open

    def open_on_full_disk(self, mode="r", *args, **kwargs):
        if "w" in mode and Path(media_root) in self.parents:
            return FullDisk(self, "wb")
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_on_full_disk)
    return monkeypatch


def files_under(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def body(n: int = 2) -> dict:
    return {"text": "小区门口上水井盖缺失，有行人掉落危险", "category": "C0101", "lon": 114.02, "lat": 22.51,
            "reporter_phone": "13800138000",
            "photos": [{"name": f"p{i}.jpg", "content_base64": base64.b64encode(jpeg(size=(40 + i, 30))).decode()}
                       for i in range(n)]}


def test_an_api_report_on_a_full_disk_answers_503_and_stores_nothing_then_goes_in_when_sent_again(
        world, media_root, disk_full):
    client = Client()
    answer = client.post("/api/v1/events", body(), content_type="application/json", headers={"Idempotency-Key": "r-1"})
    assert answer.status_code == 503 and answer["Retry-After"] == "60"
    error = answer.json()["error"]
    assert error["code"] == "storage_full" and "未保存任何内容" in error["message"]
    assert list(error["fields"]) == ["photos"]
    assert not Case.objects.exists()
    assert files_under(media_root) == []  # not even a partial temporary file
    disk_full.undo()  # room again
    again = client.post("/api/v1/events", body(), content_type="application/json", headers={"Idempotency-Key": "r-1"})
    assert again.status_code == 201, again.json()
    assert Case.objects.count() == 1 and len(files_under(media_root)) == 2


def test_the_report_page_on_a_full_disk_keeps_the_form_and_says_nothing_was_saved(world, media_root, disk_full):
    photo = io.BytesIO(jpeg())
    photo.name = "p.jpg"
    page = Client(headers={"Accept-Language": "en"}).post(
        "/report/", {"text": "小区门口上水井盖缺失", "category": "C0101", "lon": "114.02", "lat": "22.51",
                     "reporter_phone": "13800138000", "photos": photo})
    assert page.status_code == 503
    assert "Nothing was saved" in page.content.decode()  # asked in English
    assert not Case.objects.exists() and files_under(media_root) == []
