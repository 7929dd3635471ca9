"""Bulk import: dry run by default with every rejected row and its line, --commit keeps the good
rows, a re-run imports nothing twice, GBK and Excel files, and the bulk path writing the same case,
detail, timeline, timer and audit rows as the service path."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Case, Party, TimelineEntry, Timer
from civicgrid.events.importing import EventImportError, events_import
from civicgrid.events.models import EventDetail
from civicgrid.events.tests.conftest import at

pytestmark = pytest.mark.django_db

NOW = at(2024, 9, 30, 9)
CSV = """编号,标题,描述,诉求类型,分类,经度,纬度,地址,姓名,电话,匿名,上报时间
A1,井盖缺失,小区门口上水井盖缺失,求助,C0101,114.02,22.51,桂花路1号,王女士,13800138000,否,2024-09-23 10:00
A2,,路灯不亮好几天了,投诉,C0104,114.03,22.52,,,,是,2024-09-23 11:00
A3,乱扔垃圾,,建议,E0101,114.02,22.51,,,,,2024-09-23 12:00
A4,噪音扰民,夜间施工噪音,投诉,飞碟降落,114.02,22.51,,,,,2024-09-24 08:00
A5,坐标错,描述,咨询,C0101,东经,22.51,,,,,
A6,时间错,描述,咨询,C0101,114.02,22.51,,,,,明天
A7,未来,描述,咨询,C0101,114.02,22.51,,,,,2099-01-01 00:00
A8,电话错,描述,咨询,C0101,114.02,22.51,,张三,12345,否,
A9,远方,山里的事,求助,C0101,100.0,30.0,,,,,2024-09-25 09:00
A1,井盖缺失,小区门口上水井盖缺失,求助,C0101,114.02,22.51,桂花路1号,王女士,13800138000,否,2024-09-23 10:00
A2,另一件事,内容不同,投诉,C0104,114.03,22.52,,,,是,2024-09-23 11:00
"""


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_a_dry_run_lists_every_bad_row_with_its_line_and_writes_nothing(world, csv_file):
    report = events_import(path=csv_file, now=NOW)
    assert not report.committed and report.rows == 11
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (6, "location"), (7, "reported_at"), (8, "reported_at"), (9, "reporter_phone"),
        (12, "id A2 is used by line 3 for another report.")]
    assert report.good == 5 and report.repeated == 1
    assert not Case.objects.exists()


def test_commit_keeps_the_good_rows_and_a_rerun_imports_nothing_twice(world, csv_file, units):
    report = events_import(path=csv_file, commit=True, now=NOW)
    assert report.committed and report.good == 5 and Case.objects.count() == 5
    assert (report.routed, report.manual) == (2, 3)  # unknown category, outside every grid, no E0101 department
    a1 = Case.objects.get(event__external_id="A1")
    assert a1.channel == "import" and a1.created_at == at(2024, 9, 23, 10) and a1.reporter_phone == "13800138000"
    assert a1.event.idempotency_key == "sys:import:A1" and a1.event.suggested_department == units.water
    a2 = Case.objects.get(event__external_id="A2")
    assert a2.title == "路灯不亮好几天了" and a2.anonymous
    assert Case.objects.get(event__external_id="A4").event.routing == "manual"
    assert Case.objects.get(event__external_id="A9").owner_region.code == "440300"

    again = events_import(path=csv_file, commit=True, now=NOW)
    assert again.good == 0 and again.already == 5 and Case.objects.count() == 5


def test_rows_without_an_id_are_recognised_by_their_content(world, tmp_path):
    path = tmp_path / "noid.csv"
    path.write_text("描述,经度,纬度\n垃圾满溢,114.02,22.51\n路面坑洼,114.02,22.51\n", encoding="utf-8")
    assert events_import(path=path, commit=True, now=NOW).good == 2
    assert events_import(path=path, commit=True, now=NOW).already == 2
    assert Case.objects.count() == 2


def test_a_gbk_file_is_read(world, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("描述,分类\n井盖破损,C0101\n".encode("gbk"))
    report = events_import(path=path, commit=True, now=NOW)
    assert report.encoding == "gb18030" and Case.objects.get().text == "井盖破损"


def test_an_excel_file_is_read(world, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["编号", "描述", "经度", "纬度"])
    wb.active.append([1, "绿化带缺损", 114.02, 22.51])
    wb.active.append([2, "", "", ""])
    wb.active.append([3, "", 114.02, ""])
    path = tmp_path / "events.xlsx"
    wb.save(path)
    report = events_import(path=path, commit=True, now=NOW)
    assert report.good == 1 and [r.line for r in report.rejected] == [3, 4]
    assert Case.objects.get().event.external_id == "1"


def test_a_file_without_a_description_column_is_refused_as_a_whole(world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(EventImportError):
        events_import(path=path, now=NOW)


def test_the_command_prints_a_dry_run_with_lines_and_commits_on_request(world, csv_file):
    out = StringIO()
    call_command("events_import", str(csv_file), "--no-progress", stdout=out)
    text = out.getvalue()
    assert "DRY RUN" in text and "line 6: location" in text and "line 12:" in text
    assert not Case.objects.exists()
    out = StringIO()
    call_command("events_import", str(csv_file), "--commit", "--bulk", "--no-progress", stdout=out)
    assert Case.objects.count() == 5 and "done" in out.getvalue()


def _snapshot():
    """Every row the import wrote, without ids, tracking codes or wall-clock times."""
    keys = dict(EventDetail.objects.values_list("case_id", "idempotency_key"))
    codes = dict(Case.objects.values_list("id", "tracking_code"))

    def clean(value, pk):
        if isinstance(value, str):
            return value.replace(codes.get(pk, "~~"), "<code>")
        if isinstance(value, dict):
            return {k: clean(v, pk) for k, v in value.items()}
        return value

    skip_case = {"id", "tracking_code", "updated_at", "reporter_name", "reporter_phone"}
    cases = sorted((keys[c["id"]], sorted((k, v) for k, v in c.items() if k not in skip_case))
                   for c in Case.objects.values())
    plain = sorted((keys[c.pk], c.reporter_name, c.reporter_phone) for c in Case.objects.all())
    details = sorted((d.pop("idempotency_key"), sorted((k, v) for k, v in d.items() if k != "case_id"))
                     for d in EventDetail.objects.values())
    timeline = sorted((keys[t["case_id"]], sorted((k, clean(v, t["case_id"])) for k, v in t.items()
                                                  if k not in ("id", "case_id")))
                      for t in TimelineEntry.objects.values())
    timers = sorted((keys[t["case_id"]], t["kind"], sorted((k, v) for k, v in t.items() if k not in ("id", "case_id")))
                    for t in Timer.objects.values())
    audit = sorted((keys[int(a["target_id"])], sorted((k, clean(v, int(a["target_id"]))) for k, v in a.items()
                                                       if k not in ("id", "at", "target_id", "request_id")))
                   for a in AuditEntry.objects.filter(action__startswith="cases.event").values())
    # the reporters as parties (当事人), compared in the clear (the ciphertext is randomised)
    party_skip = {"id", "case_id", "name", "phone", "created_at", "updated_at"}
    parties = sorted((keys[p.case_id], p.name, p.phone, sorted((k, v) for k, v in p.__dict__.items()
                                                                if not k.startswith("_") and k not in party_skip))
                     for p in Party.objects.all())
    return {"cases": cases, "plain": plain, "details": details, "timeline": timeline, "timers": timers,
            "audit": audit, "parties": parties}


def test_the_bulk_path_writes_the_same_rows_as_the_service_path(world, csv_file):
    with transaction.atomic():
        events_import(path=csv_file, commit=True, now=NOW)
        by_service = _snapshot()
        transaction.set_rollback(True)
    assert not Case.objects.exists()
    report = events_import(path=csv_file, commit=True, now=NOW, bulk=True)
    assert report.good == 5 and (report.routed, report.manual) == (2, 3)
    by_bulk = _snapshot()
    for table in by_service:
        assert by_bulk[table] == by_service[table], table
    assert len(by_bulk["timeline"]) == 5 and len(by_bulk["timers"]) == 10 and len(by_bulk["audit"]) == 5
    named = [p for p in by_bulk["plain"] if p[1] or p[2]]
    assert named and [p[:3] for p in by_bulk["parties"]] == named  # each named reporter is a party
    # and the bulk import is idempotent too
    assert events_import(path=csv_file, commit=True, now=NOW, bulk=True).already == 5


def test_events_imported_in_bulk_go_round_the_loop_like_any_other(world, csv_file, units):
    from civicgrid.events import services as ev

    events_import(path=csv_file, commit=True, now=NOW, bulk=True)
    case = Case.objects.get(event__external_id="A1")
    ev.event_register(actor=world.alice, case=case, now=NOW)
    ev.event_dispatch(actor=world.alice, case=Case.objects.get(pk=case.pk), now=NOW)
    assert Case.objects.get(pk=case.pk).lead_department == units.water


def test_the_bulk_paths_due_times_equal_the_clocks_for_every_second_of_start(world):
    """The per-minute shortcut of the bulk path gives exactly clock.due_at, start second by second
    across working-time edges (lunch, evening, a weekend, a holiday) and for each kind of limit."""
    import datetime as dt
    import random

    from civicgrid.events.bulk import BulkWriter
    from civicgrid.workcal import clock
    from civicgrid.workcal.calendar import working_calendar, working_hours

    writer = BulkWriter(actor=None, now=NOW)
    rng = random.Random(7)
    edges = [at(2024, 9, 23, 11, 59), at(2024, 9, 23, 12, 59), at(2024, 9, 23, 16, 59), at(2024, 9, 27, 16, 58),
             at(2024, 9, 30, 16, 59), at(2024, 9, 23, 8, 59), at(2024, 10, 8, 8, 59)]
    starts = [e + dt.timedelta(seconds=s) for e in edges for s in range(0, 180, 7)]
    starts += [at(2024, 9, 20) + dt.timedelta(seconds=rng.randint(0, 20 * 86400)) for _ in range(300)]
    for amount, unit in ((4, "working_hours"), (2, "working_hours"), (5, "working_days"), (1, "working_days"),
                         (2, "urgent_hours"), (0.25, "urgent_hours"), (3, "calendar_days")):
        for start in starts:
            expected = clock.due_at(start, amount, unit, calendar=working_calendar(), hours=working_hours())
            assert writer._due(start, amount, unit)[0] == expected, (start, amount, unit)


def test_text_with_tabs_newlines_and_backslashes_survives_both_writers(world, tmp_path):
    path = tmp_path / "odd.csv"
    text = 'line one\tafter a tab\nline two \\ back\\slash "quoted"\r\n末行'
    path.write_text('编号,描述,经度,纬度\nX1,"' + text.replace('"', '""') + '",114.02,22.51\n', encoding="utf-8")
    events_import(path=path, commit=True, now=NOW, bulk=True)
    stored = Case.objects.get()
    assert stored.text == text.strip() and stored.title.startswith("line one after a tab")


AWKWARD = [
    "tab\there, newline\nthere, CRLF\r\nend",
    "back\\slash, double \\\\, a literal \\N and \\t, \\. alone",
    "\\N",
    "井盖缺失 — 中文、全角，标点；“引号” and emoji 🚧",
    'quote " and comma, semicolon; pipe |',
]


def test_awkward_text_round_trips_through_the_bulk_writer(world, tmp_path):
    """Every text the COPY escaping could get wrong comes back as it went in (psycopg escapes it),
    in the case, its timeline entry, its audit row; on PostgreSQL this is the COPY path."""
    import csv

    path = tmp_path / "awkward.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["编号", "标题", "描述", "地址", "姓名", "经度", "纬度"])
        for i, text in enumerate(AWKWARD):
            w.writerow([f"W{i}", f"T{i} {text[:20]}", text, text[:200], "王\\N", "114.02", "22.51"])
    report = events_import(path=path, commit=True, now=NOW, bulk=True)
    assert report.rejected == [] and report.good == len(AWKWARD)
    for i, text in enumerate(AWKWARD):
        case = Case.objects.get(event__external_id=f"W{i}")
        assert case.text == text.strip()
        assert case.address == text[:200].strip()
        assert case.reporter_name == "王\\N"
        entry = TimelineEntry.objects.get(case=case)
        assert entry.action == "create" and entry.to_state == case.state
        audit = AuditEntry.objects.get(action="cases.event.create", target_id=str(case.pk))
        assert audit.target_repr == f"{case.tracking_code} {case.title}"[:200]


def test_a_nul_character_refuses_its_row_naming_the_line_and_field(world, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_text("编号,描述,地址,经度,纬度\nN1,好的描述,,114.02,22.51\nN2,坏\x00的描述,,114.02,22.51\n"
                    "N3,也好,地\x00址,114.02,22.51\n", encoding="utf-8")
    with translation.override("zh-hans"):
        report = events_import(path=path, commit=True, now=NOW, bulk=True)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "text: 含有空字符（NUL），不能接受。"), (4, "address: 含有空字符（NUL），不能接受。")]
    assert list(Case.objects.values_list("event__external_id", flat=True)) == ["N1"]
