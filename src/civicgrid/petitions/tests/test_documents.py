"""The written answers of a petition drawn from the office's templates, each with its delivery
record; the request window runs from the delivery."""

from __future__ import annotations

import io

import pytest

from civicgrid.cases.documents import document_generate, file_path
from civicgrid.cases.models import Timer
from civicgrid.petitions.services import notice_delivered, templates_install
from civicgrid.petitions.tests.conftest import MON, act, at, fresh, receive

pytestmark = pytest.mark.django_db


def _text(version) -> str:
    import docx

    d = docx.Document(io.BytesIO(file_path(version.path).read_bytes()))
    return "\n".join(p.text for p in d.paragraphs)


def test_notices_and_the_reply_are_drawn_from_the_petition_templates(po):
    u = po.units
    assert templates_install(actor=None) == ["notice", "decision"]
    case = receive(po)
    act(po.olga, case, "route", MON, unit=u.urban.code)
    act(u.dana, case, "accept", at(2025, 9, 23, 10))
    v = document_generate(actor=u.dana, case=fresh(case), kind="notice", now=at(2025, 9, 23, 11))
    text = _text(v)
    assert "信访事项受理告知书" in text and "王五" in text and "甲区城管局" in text
    act(u.dana, case, "reply", at(2025, 10, 9, 10), note="依法补发拖欠工资")
    reply = document_generate(actor=u.dana, case=fresh(case), kind="decision", now=at(2025, 10, 9, 11))
    text = _text(reply)
    assert "信访事项处理意见书" in text and "依法补发拖欠工资" in text and "30日内" in text
    notice_delivered(actor=u.dana, case=fresh(case), document=reply.document, party_name="王五", method="post",
                     delivered_at=at(2025, 10, 13, 15), now=at(2025, 10, 14, 9))
    w = Timer.objects.get(case=case, kind="review_window")
    # 30 statutory days from the delivery (Mon 10-13), not the reply: Wed 11-12, due 24:00
    assert w.started_at == at(2025, 10, 13, 15) and w.due_at == at(2025, 11, 13)
    assert reply.deliveries.count() == 1


def test_a_matter_led_to_litigation_prints_the_channel_and_the_reason(po):
    templates_install(actor=None)
    case = receive(po, kind="suggestion", matter="建议")
    act(po.olga, case, "lead_to_channel", MON, reason="属诉讼事项", channel="litigation")
    v = document_generate(actor=po.cast.admin_a, case=fresh(case), kind="notice", now=MON)
    assert "诉讼" in _text(v) and "属诉讼事项" in _text(v)
