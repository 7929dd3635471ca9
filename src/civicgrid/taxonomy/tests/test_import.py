"""Category-tree import: the real 12345 tree of 附件1.csv, encodings, dry runs, re-imports, bad rows."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.audit.models import AuditEntry
from civicgrid.core.testing import shared_file
from civicgrid.taxonomy.models import Category
from civicgrid.taxonomy.services import CategoryImportError, categories_import_csv

REAL = "teddy2020/csv/附件1.csv"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write(tmp_path: Path, text: str, name: str = "tree.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def per_depth() -> tuple[int, ...]:
    return tuple(Category.objects.filter(depth=d).count() for d in (1, 2, 3))


def distinct_names_per_depth() -> tuple[int, ...]:
    return tuple(len(set(Category.objects.filter(depth=d).values_list("name", flat=True))) for d in (1, 2, 3))


def test_a_dry_run_of_the_real_tree_plans_every_node_and_writes_nothing(db):
    report = categories_import_csv(path=shared_file(REAL), actor=None)
    assert report.ok and not report.committed
    assert report.levels == ["一级分类", "二级分类", "三级分类"]
    assert report.rows == 517
    assert [report.counts[d].created for d in (1, 2, 3)] == [15, 118, 517]
    assert Category.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_the_real_tree_imports_15_classes_with_103_and_390_distinct_names_below(db):
    report = categories_import_csv(path=shared_file(REAL), actor=None, commit=True)
    assert report.committed and report.ok
    # 15 / 103 / 390 are the distinct values per column; as a tree, a name repeated under several
    # parents (其他 under 15 classes, 安全生产 under two) is one node per parent: 15 / 118 / 517.
    assert distinct_names_per_depth() == (15, 103, 390)
    assert per_depth() == (15, 118, 517)
    leaf = Category.objects.get(name="事故处理", parent__name="安全生产", parent__parent__name="城乡建设")
    assert leaf.kind == "request"
    assert [c.code for c in (leaf.parent.parent, leaf.parent, leaf)] == ["R01", "R0101", "R010101"]
    assert leaf.depth == 3 and leaf.ancestor_ids == [leaf.parent.parent_id, leaf.parent_id]
    assert Category.objects.filter(name="其他", depth=2).count() == 15


def test_importing_the_real_tree_again_creates_nothing(db):
    categories_import_csv(path=shared_file(REAL), actor=None, commit=True)
    audits = AuditEntry.objects.count()
    report = categories_import_csv(path=shared_file(REAL), actor=None, commit=True)
    assert report.created == 0
    assert [report.counts[d].existing for d in (1, 2, 3)] == [15, 118, 517]
    assert per_depth() == (15, 118, 517)
    assert AuditEntry.objects.count() == audits + 1  # only the import's summary row


def test_a_gbk_copy_of_the_real_file_imports_the_same_tree(db, tmp_path):
    text = shared_file(REAL).read_text(encoding="utf-8-sig")
    gbk = write(tmp_path, text, "附件1-gbk.csv", encoding="gbk")
    report = categories_import_csv(path=gbk, actor=None, commit=True)
    assert report.encoding == "gb18030"
    assert per_depth() == (15, 118, 517)
    again = categories_import_csv(path=shared_file(REAL), actor=None)
    assert again.created == 0 and again.existing == 650


def test_a_utf8_file_with_a_byte_order_mark_reads_its_header_correctly(db, tmp_path):
    path = write(tmp_path, "一级分类,二级分类\n城乡建设,安全生产\n", encoding="utf-8-sig")
    report = categories_import_csv(path=path, actor=None)
    assert report.encoding == "utf-8-sig"
    assert report.levels == ["一级分类", "二级分类"]


BAD = """大类,中类,小类
城乡建设,安全生产,事故处理
城乡建设,,安全隐患
城乡建设,安全生产,{long}

城乡建设,安全生产,事故处理
城乡建设,安全生产,安全隐患,多出一列
环境保护,,
,环境污染,噪声
城乡建设,安全生产,
"""


def test_bad_rows_are_reported_with_their_line_and_reason_and_good_rows_import(db, tmp_path):
    path = write(tmp_path, BAD.format(long="长" * 101))
    report = categories_import_csv(path=path, actor=None, commit=True)
    reasons = {r.line: r.reason for r in report.rejected}
    assert sorted(reasons) == [3, 4, 7, 9]
    assert "中类 (level 2) is empty but 小类 (level 3) is filled" in reasons[3]
    assert "101 characters" in reasons[4]
    assert "column 4 has a value but no header" in reasons[7]
    assert "大类 (level 1) is empty" in reasons[9]
    assert report.blank == 1
    assert report.duplicates == 2  # line 6 repeats line 2; line 10 names 安全生产, named by line 2
    assert [report.counts[d].created for d in (1, 2, 3)] == [2, 1, 1]
    names = set(Category.objects.values_list("name", flat=True))
    assert names == {"城乡建设", "安全生产", "事故处理", "环境保护"}


def test_codes_given_in_the_file_are_kept_and_a_clash_is_rejected(db, tmp_path):
    path = write(tmp_path, "大类编码,大类,小类编码,小类\n"
                           "A1,城乡建设,A101,安全生产\n"
                           "A1,城乡建设,,城市建设\n"
                           "A2,环境保护,A101,环境污染\n"
                           "B9,城乡建设,A102,供水\n")
    report = categories_import_csv(path=path, actor=None, commit=True)
    # A generated code never takes one the file names (A102, on line 5, even though that line fails).
    assert dict(Category.objects.values_list("name", "code")) == {
        "城乡建设": "A1", "安全生产": "A101", "城市建设": "A103"}
    reasons = {r.line: r.reason for r in report.rejected}
    assert "code A101 is already used by 城乡建设/安全生产" in reasons[4]
    assert "城乡建设 already has code A1, the file says B9" in reasons[5]


def test_a_later_import_numbers_new_categories_after_the_existing_ones(db, tmp_path):
    categories_import_csv(path=write(tmp_path, "一级,二级\n城乡建设,安全生产\n城乡建设,供水\n"), actor=None,
                          commit=True)
    categories_import_csv(path=write(tmp_path, "一级,二级\n城乡建设,供电\n交通运输,出租车\n", "more.csv"),
                          actor=None, commit=True)
    assert dict(Category.objects.values_list("name", "code")) == {
        "城乡建设": "R01", "安全生产": "R0101", "供水": "R0102", "供电": "R0103",
        "交通运输": "R02", "出租车": "R0201"}


def test_a_committed_import_writes_one_audit_row_per_category_and_a_summary(db, tmp_path):
    path = write(tmp_path, "一级,二级\n城乡建设,安全生产\n")
    categories_import_csv(path=path, actor=None, commit=True)
    assert AuditEntry.objects.filter(action="taxonomy.category.create").count() == 2
    summary = AuditEntry.objects.get(action="taxonomy.category.import")
    assert summary.extra["created"] == {"1": 1, "2": 1}


def test_the_levels_option_picks_the_level_columns_and_ignores_the_others(db, tmp_path):
    path = write(tmp_path, "序号,一级分类,备注,二级分类\n1,城乡建设,随便,安全生产\n")
    report = categories_import_csv(path=path, actor=None, levels=["一级分类", "二级分类"], commit=True)
    assert report.ok
    assert Category.objects.get(name="安全生产").parent.name == "城乡建设"


def test_a_file_that_cannot_be_read_is_refused_as_a_whole_with_a_clear_reason(db, tmp_path):
    (tmp_path / "latin.csv").write_bytes(b"a,b\n\x80\xff,c\n")
    with pytest.raises(CategoryImportError, match="neither UTF-8 nor GBK"):
        categories_import_csv(path=tmp_path / "latin.csv", actor=None)
    with pytest.raises(CategoryImportError, match="empty"):
        categories_import_csv(path=write(tmp_path, ""), actor=None)
    with pytest.raises(CategoryImportError, match="cannot be read as ascii"):
        categories_import_csv(path=write(tmp_path, "一级\n城乡建设\n"), actor=None, encoding="ascii")
    with pytest.raises(CategoryImportError, match="Column 三级 is not in the header"):
        categories_import_csv(path=write(tmp_path, "一级\n城乡建设\n"), actor=None, levels=["三级"])
    with pytest.raises(CategoryImportError, match="No such file"):
        categories_import_csv(path=tmp_path / "missing.csv", actor=None)


def test_the_real_excel_workbook_imports_the_same_tree_as_its_csv(db):
    report = categories_import_csv(path=shared_file("teddy2020/全部数据/附件1.xlsx"), actor=None, commit=True)
    assert report.committed and not report.rejected
    assert [Category.objects.filter(depth=d).count() for d in (1, 2, 3)] == [15, 118, 517]


def test_a_broken_excel_file_is_refused_with_a_clear_reason(db, tmp_path):
    path = tmp_path / "tree.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(CategoryImportError):
        categories_import_csv(path=path, actor=None)


def test_the_import_command_prints_a_summary_and_each_rejected_line(db, tmp_path):
    path = write(tmp_path, BAD.format(long="长" * 101))
    out = run("taxonomy_import", str(path))
    assert "DRY RUN" in out
    assert "line 3: 中类 (level 2) is empty but 小类 (level 3) is filled" in out
    assert "line 9: " in out
    assert Category.objects.count() == 0
    out = run("taxonomy_import", str(path), "--commit", "--kind", "event")
    assert "done: 4 categories created" in out
    assert set(Category.objects.values_list("kind", flat=True)) == {"event"}
    assert Category.objects.get(name="城乡建设").code == "E01"


def test_the_import_command_turns_a_bad_file_into_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run("taxonomy_import", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="Unknown encoding"):
        run("taxonomy_import", str(write(tmp_path, "一级\n城乡建设\n")), "--encoding", "klingon")


def test_a_messages_file_is_not_taken_for_a_category_tree(db):
    with pytest.raises(CategoryImportError, match="at most 5"):
        categories_import_csv(path=shared_file("teddy2020/csv/附件3.csv"), actor=None)
