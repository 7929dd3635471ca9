"""Write the document templates shipped with CivicGrid (src/civicgrid/cases/templates/cases/documents/*.docx).

Each is a small Word file with docxtpl's tags (``{{ tracking_code }}``, ``{% for s in steps %}``…; the
names are those of ``civicgrid.cases.documents.document_context``). An administrator replaces any of
them in the admin (Document templates) or with ``civicgrid document_template KIND FILE``; the shipped
file applies while no template of that kind is active. Run: python scripts/make_document_templates.py
[NAME …] (the disputes' own agreement: ``dispute_agreement``, written to disputes/templates/disputes/documents)
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


def dispute_agreement() -> docx.Document:
    """人民调解协议书: the dispute type's own agreement (names of disputes.casetype.document_context)."""
    d = _doc("人民调解协议书")
    d.add_paragraph("编号：{{ tracking_code }}　　调解组织：{{ organisation }}")
    d.add_heading("当事人", level=2)
    d.add_paragraph("{% for p in parties %}{{ p.kind }}：{{ p.name }}{% if p.id_number %}，身份证号码："
                    "{{ p.id_number }}{% endif %}{% if p.phone %}，联系电话：{{ p.phone }}{% endif %}"
                    "{% if p.address %}，住址："
                    "{{ p.address }}{% endif %}\n{% endfor %}")
    d.add_heading("纠纷主要事实、争议事项", level=2)
    d.add_paragraph("纠纷类型：{{ dispute_type }}。{{ facts }}")
    d.add_paragraph("申请人请求：{{ applicant_claim }}")
    d.add_paragraph("被申请人意见：{{ respondent_claim }}")
    d.add_heading("经调解，当事人自愿达成如下协议", level=2)
    d.add_paragraph("{% for t in terms %}{{ loop.index }}. {{ t.term }}（履行人：{{ t.performer }}；履行期限："
                    "{{ t.due }}）\n{% endfor %}")
    d.add_paragraph("履行方式、时限：按上述各条履行。本协议自各方当事人签名（盖章或按指印）、调解员签名并加盖调解组织印章之日起"
                    "生效。当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。")
    d.add_paragraph("本协议一式{{ copies }}份，当事人、调解组织各执一份。")
    d.add_paragraph("当事人（签名）：{% for p in parties %}{{ p.name }}＿＿＿＿＿　{% endfor %}")
    d.add_paragraph("调解员（签名）：{{ mediators }}＿＿＿＿＿　　记录人：＿＿＿＿＿")
    d.add_paragraph("{{ organisation }}（印章）　　{{ agreed_on }}")
    return d


DISPUTES_OUT = OUT.parent.parent.parent.parent / "disputes" / "templates" / "disputes" / "documents"
TEMPLATES = {"work_order": (OUT, work_order), "notice": (OUT, notice), "agreement": (OUT, agreement),
             "decision": (OUT, decision), "dispute_agreement": (DISPUTES_OUT, dispute_agreement)}


def main(names: list[str]) -> int:
    """Write every template, or those named (e.g. ``dispute_agreement``)."""
    for name in names or list(TEMPLATES):
        where, make = TEMPLATES[name]
        where.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        make().save(buf)
        target = where / f"{name.removeprefix('dispute_')}.docx"
        target.write_bytes(buf.getvalue())
        print(f"wrote {target} ({len(buf.getvalue())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
