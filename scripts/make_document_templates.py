"""Write the document templates shipped with CivicGrid (src/civicgrid/cases/templates/cases/documents/*.docx).

Each is a small Word file with docxtpl's tags (``{{ tracking_code }}``, ``{% for s in steps %}``…; the
names are those of ``civicgrid.cases.documents.document_context``). An administrator replaces any of
them in the admin (Document templates) or with ``civicgrid document_template KIND FILE``; the shipped
file applies while no template of that kind is active. Run: python scripts/make_document_templates.py
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import docx
from docx.shared import Pt

OUT = Path(__file__).resolve().parent.parent / "src" / "civicgrid" / "cases" / "templates" / "cases" / "documents"


def _doc(title: str) -> docx.Document:
    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    d.add_heading(title, level=1)
    return d


def _table(d: docx.Document, rows: list[tuple[str, str]]) -> None:
    t = d.add_table(rows=len(rows), cols=2)
    t.style = "Table Grid"
    for row, (label, value) in zip(t.rows, rows, strict=True):
        row.cells[0].text = label
        row.cells[1].text = value


def work_order() -> docx.Document:
    d = _doc("工单 {{ tracking_code }}")
    _table(d, [("工单编号", "{{ tracking_code }}"), ("案件类型", "{{ case_type }}"), ("标题", "{{ title }}"),
               ("内容", "{{ text }}"), ("来源", "{{ channel }}"), ("紧急程度", "{{ priority }}"),
               ("类别", "{{ category }}"), ("地址", "{{ address }}"),
               ("所在区域", "{{ district }} {{ street }} {{ community }} {{ grid }}"),
               ("主办单位", "{{ lead_department }}"), ("当前状态", "{{ state }}"),
               ("受理时间", "{{ created_at }}"), ("办理时限", "{{ handling_due_at }}"),
               ("办结时间", "{{ closed_at }}")])
    d.add_heading("办理过程", level=2)
    d.add_paragraph("{% for s in steps %}{{ s.at }}　{{ s.actor }}　{{ s.action }}　{{ s.note }}\n{% endfor %}")
    d.add_paragraph("打印：{{ generated_by }}　{{ generated_at }}")
    return d


def notice() -> docx.Document:
    d = _doc("{{ document_title }}")
    d.add_paragraph("编号：{{ tracking_code }}")
    d.add_paragraph("{% for p in parties %}{{ p.name }}{% if not loop.last %}、{% endif %}{% endfor %}：")
    d.add_paragraph("关于“{{ title }}”一事（{{ case_type }}，受理时间 {{ created_at }}），现告知如下：目前办理状态为"
                    "“{{ state }}”，主办单位为{{ lead_department }}。")
    d.add_paragraph("如对本告知有异议，可自收到本告知之日起依法提出。")
    d.add_paragraph("{{ owner_region }}　{{ generated_on }}")
    return d


def agreement() -> docx.Document:
    d = _doc("{{ document_title }}")
    d.add_paragraph("编号：{{ tracking_code }}")
    d.add_paragraph("当事人：{% for p in parties %}{{ p.kind }} {{ p.name }}；{% endfor %}")
    d.add_paragraph("事由：{{ title }}")
    d.add_paragraph("{{ text }}")
    d.add_paragraph("经调解，各方自愿达成如下协议：")
    d.add_paragraph("（协议内容）")
    d.add_paragraph("当事人签名：　　　　　　　调解员签名：　　　　　　　{{ generated_on }}")
    return d


def decision() -> docx.Document:
    d = _doc("{{ document_title }}")
    d.add_paragraph("编号：{{ tracking_code }}")
    d.add_paragraph("关于“{{ title }}”一事，经审查，决定如下：")
    d.add_paragraph("（决定内容）")
    d.add_paragraph("{{ owner_region }}　{{ generated_on }}")
    return d


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in (("work_order", work_order), ("notice", notice), ("agreement", agreement),
                       ("decision", decision)):
        buf = io.BytesIO()
        make().save(buf)
        (OUT / f"{name}.docx").write_bytes(buf.getvalue())
        print(f"wrote {OUT / (name + '.docx')} ({len(buf.getvalue())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
