"""Write the petition office's document templates (src/civicgrid/petitions/templates/petitions/documents/*.docx).

Two kinds serve the six written answers of a petition: ``notice`` (受理告知书, 不予受理告知书, 延期告知书,
不再受理告知书) and ``decision`` (处理意见书, 复查意见书, 复核意见书); which one is printed follows the petition's
stage (``petitions.selectors.document_names``: ``notice_title``, ``notice_body``, ``petitioner``,
``unit``, ``answer``, ``request_window`` …). Install them with ``civicgrid petitions templates``; an
administrator replaces them like any template (admin, or ``civicgrid cases templates KIND FILE
--case-type petition``). Run: python scripts/make_petition_templates.py
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import docx
from make_document_templates import _doc  # the same page and font as the engine's templates

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "civicgrid" / "petitions" / "templates" / "petitions" / "documents"


def notice() -> docx.Document:
    d = _doc("{{ notice_title }}")
    d.add_paragraph("编号：{{ tracking_code }}")
    d.add_paragraph("{{ petitioner }}：")
    d.add_paragraph("你（们）于{{ received_on }}反映的“{{ title }}”（{{ petition_kind }}，{{ petition_form }}）一事，"
                    "{{ notice_body }}")
    d.add_paragraph("{% if reason %}理由：{{ reason }}{% endif %}")
    d.add_paragraph("{{ unit }}　{{ generated_on }}")
    return d


def decision() -> docx.Document:
    d = _doc("{{ decision_title }}")
    d.add_paragraph("编号：{{ tracking_code }}")
    d.add_paragraph("{{ petitioner }}：")
    d.add_paragraph("你（们）于{{ received_on }}反映的“{{ title }}”一事，经调查核实，意见如下：")
    d.add_paragraph("{{ answer }}")
    d.add_paragraph("{{ request_window }}")
    d.add_paragraph("{{ unit }}　{{ generated_on }}")
    return d


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in (("notice", notice), ("decision", decision)):
        buf = io.BytesIO()
        make().save(buf)
        (OUT / f"{name}.docx").write_bytes(buf.getvalue())
        print(f"wrote {OUT / (name + '.docx')} ({len(buf.getvalue())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
