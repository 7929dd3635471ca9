"""The dispatch commands: evaluate and train from UTF-8, GBK and Excel files, name the bad row, list
and activate versions, retrain on schedule, and cluster a message file."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.dispatch.models import DispatchModel
from civicgrid.dispatch.tests.conftest import messages


def _write_csv(path, rows, encoding="utf-8"):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["编号", "主题", "详情", "分类"])
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _rows(per_class=12):
    titles, bodies, labels = messages(per_class)
    return [[i + 1, t, b, lab[0]] for i, (t, b, lab) in enumerate(zip(titles, bodies, labels, strict=True))]


def _run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, no_progress=True)
    return out.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_evaluate_prints_the_figures_for_utf8_and_gbk_files(db, tmp_path, encoding):
    path = _write_csv(tmp_path / "m.csv", _rows(), encoding)
    out = _run("dispatch_evaluate", "--csv", str(path), "--text-cols", "主题,详情", "--label-col", "分类",
               "--folds", "3")
    assert "macro-F1:        1.0000" in out or "macro-F1:        0.9" in out
    for text in ("accuracy:", "documents/second", "precision  recall", "confusion matrix", "道路", "噪音"):
        assert text in out
    assert not DispatchModel.objects.exists()  # evaluation stores nothing


def test_train_reads_an_excel_file_and_activates_the_new_version(db, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "主题", "详情", "分类"])
    for row in _rows():
        ws.append(row)
    path = tmp_path / "m.xlsx"
    wb.save(path)
    out = _run("dispatch_train", "--csv", str(path), "--text-cols", "主题,详情", "--label-col", "分类",
               "--folds", "0")
    assert "model v1 trained on 36 documents" in out and "active" in out
    out = _run("dispatch_train", "--csv", str(path), "--text-cols", "主题,详情", "--label-col", "分类",
               "--folds", "3", "--no-activate")
    assert "macro-F1" in out and "model v2" in out and "not active" in out
    listing = _run("dispatch_models")
    assert "*        1" in listing and "         2" in listing
    assert "model v2 is active" in _run("dispatch_activate", "2")
    assert DispatchModel.objects.get(is_active=True).version == 2


def test_a_bad_row_is_named_and_nothing_is_trained(db, tmp_path):
    rows = _rows()
    rows[1][3] = ""  # file row 3: no label
    rows[4][1] = rows[4][2] = ""  # file row 6: no text
    path = _write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(CommandError) as err:
        _run("dispatch_train", "--csv", str(path), "--text-cols", "主题,详情", "--label-col", "分类")
    assert "row 3: no label in 分类" in str(err.value) and "row 6: no text" in str(err.value)
    with pytest.raises(CommandError, match="No column 类别; the columns are: 编号, 主题, 详情, 分类"):
        _run("dispatch_evaluate", "--csv", str(path), "--text-cols", "主题", "--label-col", "类别")
    with pytest.raises(CommandError, match="No such file"):
        _run("dispatch_evaluate", "--csv", str(tmp_path / "none.csv"), "--text-cols", "主题", "--label-col", "分类")
    assert not DispatchModel.objects.exists()


def test_training_from_an_empty_database_says_why(db):
    with pytest.raises(CommandError, match="at least two categories"):
        _run("dispatch_train")
    assert "not due" in _run("dispatch_retrain")


def test_similar_prints_the_largest_clusters_with_their_votes(db, tmp_path):
    path = tmp_path / "votes.csv"
    rows = [["主题", "赞", "踩"],
            ["伊景园滨河苑捆绑销售车位", "10", "1"], ["A市伊景园滨河苑捆绑销售车位", "5", "0"],
            ["投诉伊景园滨河苑捆绑销售车位", "2", "0"], ["学校乱收费", "1", "0"], ["东风路噪音扰民", "0", "0"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    out = _run("dispatch_similar", "--csv", str(path), "--text-cols", "主题", "--votes-cols", "赞,踩")
    assert "5 messages, 1 clusters" in out
    assert "   1     3      18  伊景园滨河苑捆绑销售车位" in out
    rows[2][1] = "many"
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    with pytest.raises(CommandError, match="row 3: not a number in 赞, 踩"):
        _run("dispatch_similar", "--csv", str(path), "--text-cols", "主题", "--votes-cols", "赞,踩")


def test_a_missing_column_option_is_named(db, tmp_path):
    path = _write_csv(tmp_path / "m.csv", _rows())
    for command in ("dispatch_train", "dispatch_evaluate"):
        with pytest.raises(CommandError, match="--label-col is missing"):
            _run(command, "--csv", str(path), "--text-cols", "主题")
        with pytest.raises(CommandError, match="--text-cols is missing"):
            _run(command, "--csv", str(path), "--label-col", "分类")
    with pytest.raises(CommandError, match="give it with --csv FILE"):
        _run("dispatch_train", "--text-cols", "主题", "--label-col", "分类")
    assert not DispatchModel.objects.exists()


def test_similar_refuses_a_top_below_one(db, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("主题\n井盖缺失\n井盖丢失\n", encoding="utf-8")
    with pytest.raises(CommandError, match="--top must be 1 or more"):
        _run("dispatch_similar", "--csv", str(path), "--text-cols", "主题", "--top", "-3")
