"""Documents of a case (案件文书): the engine's writes and its rendering.

* ``document_upload`` files an uploaded scan or signed paper as a new document, or as the next
  version of one; ``document_generate`` draws a document of a kind the case's type declares
  (``CaseType.documents``) from its active template — a Word file (.docx) rendered with docxtpl
  from :func:`document_context` — and its PDF (the rendered .docx turned into HTML by mammoth and
  laid out by WeasyPrint, so the PDF follows the administrator's template); ``delivery_record``
  records how and when a version reached a party (送达); ``template_replace`` stores a new template
  version (the administrator's upload, the admin and the ``document_template`` command call it).
* Who may do each is the case type's declaration (``GenericRoles.upload_document``,
  ``generate_document``, ``record_delivery``), resolved by the engine as for every action; the
  interfaces call these through ``rules.case_act``. Every write is one transaction with its
  timeline entry and audit row.
* Files live under ``<CIVICGRID_MEDIA_ROOT>/documents/`` named by their SHA-256 (the same bytes are
  stored once), written whole or not at all; they are read back only through
  ``selectors.document_file`` (the case's scoping).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.cases import registry
from civicgrid.cases import services as engine
from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.cases.models import (
    Case,
    CaseDocument,
    Delivery,
    DeliveryMethod,
    DocumentKind,
    DocumentTemplate,
    DocumentVersion,
    Party,
)
from civicgrid.core.batch import batched
from civicgrid.core.errors import StorageFull
from civicgrid.core.files import write_whole

log = logging.getLogger("civicgrid.cases.documents")
# WeasyPrint reports each step of every layout at INFO: not news for the operator's log
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
# The files a case accepts, recognised by their content (never by their name): (content type, extension).
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", PDF, "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"RIFF", "image/webp", "webp"),
)
_ZIP = b"PK\x03\x04"
_OFFICE = {"docx": DOCX, "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
DEFAULT_TEMPLATES = Path(__file__).resolve().parent / "templates" / "cases" / "documents"
DATE = "%Y-%m-%d"
DATETIME = "%Y-%m-%d %H:%M"


def max_bytes() -> int:
    return int(getattr(settings, "CIVICGRID_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024))


def documents_root() -> Path:
    root = getattr(settings, "CIVICGRID_MEDIA_ROOT", None)
    return (Path(root) if root else Path(settings.DATA_DIR) / "media") / "documents"


# --- storage -----------------------------------------------------------------------------------------


def file_store(data: bytes, ext: str, field: str = "files") -> tuple[str, str]:
    """Store ``data`` under the documents root by its SHA-256: (relative path, digest). A disk that
    refuses the write raises StorageFull (nothing is recorded: the caller's transaction fails)."""
    digest = hashlib.sha256(data).hexdigest()
    rel = f"{digest[:2]}/{digest}.{ext}"
    path = documents_root() / rel
    if not path.exists():
        try:
            write_whole(path, data)
        except OSError as exc:
            log.error("a document could not be stored under %s: %s", documents_root(), exc.strerror or exc)
            raise StorageFull(_("The file could not be stored: the server's storage is full or unavailable. "
                                "Nothing was saved; please try again later."), field=field) from exc
    return rel, digest


def file_path(rel: str) -> Path | None:
    """The stored file at ``rel`` (None when it is missing or outside the documents root)."""
    root = documents_root().resolve()
    path = (root / rel).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def file_kind(name: str, content: bytes, field: str) -> tuple[str, str]:
    """(content type, extension) of an uploaded file, by its content: PDF, JPEG, PNG, WebP, a Word or
    Excel file (.docx, .xlsx), or plain UTF-8 text; anything else, an empty file or one too large is
    422 naming the field."""
    if not content:
        raise TransitionNotAllowed({field: _("The file %(name)s is empty.") % {"name": name[:100]}})
    if len(content) > max_bytes():
        raise TransitionNotAllowed({field: _("The file %(name)s is larger than %(mb).0f MB.")
                                    % {"name": name[:100], "mb": max_bytes() / 2**20}})
    for magic, mime, ext in _MAGIC:
        if content.startswith(magic) and (ext != "webp" or content[8:12] == b"WEBP"):
            return mime, ext
    suffix = Path(name).suffix.lower().lstrip(".")
    if content.startswith(_ZIP) and suffix in _OFFICE:
        return _OFFICE[suffix], suffix
    if b"\x00" not in content:
        try:
            content.decode("utf-8")
            return "text/plain; charset=utf-8", "txt"
        except UnicodeDecodeError:
            pass
    raise TransitionNotAllowed({field: _("%(name)s is not a PDF, an image, a Word or Excel file or a text.")
                                % {"name": name[:100]}})


# --- templates -----------------------------------------------------------------------------------------


def template_for(kind: str, case_type: str) -> DocumentTemplate | None:
    """The active template of ``kind`` for the case type, else the one for every type (None: the
    shipped default applies)."""
    rows = DocumentTemplate.objects.filter(kind=kind, active=True, case_type__in=[case_type, ""])
    return min(rows, key=lambda t: t.case_type == "", default=None)


@functools.cache
def _shipped(path: Path) -> bool:
    return path.is_file()


def default_template(kind: str, case_type: str = "") -> Path | None:
    """The template shipped for ``kind``: the case type's own (``CaseType.document_templates``),
    else CivicGrid's (installed with the code: looked for once)."""
    if case_type:
        own = next((t.document_templates.get(kind) for t in registry.all_types() if t.code == case_type), None)
        if own and _shipped(Path(own)):
            return Path(own)
    path = DEFAULT_TEMPLATES / f"{kind}.docx"
    return path if _shipped(path) else None


def generable_kinds(case: Case) -> list[str]:
    """The kinds of document the case's type declares that have a template now: a shipped one, or
    an active one uploaded (asked of the database only for kinds that ship none; case_actions
    calls this for every case page)."""
    ctype = registry.of(case)
    unshipped = [k for k in ctype.documents if default_template(k, case.case_type) is None]
    uploaded = set(DocumentTemplate.objects.filter(kind__in=unshipped, active=True,
                                                   case_type__in=[case.case_type, ""]
                                                   ).values_list("kind", flat=True)) if unshipped else set()
    return [k for k in ctype.documents if k not in unshipped or k in uploaded]


def _template_bytes(kind: str, case_type: str) -> tuple[DocumentTemplate | None, bytes, str]:
    row = template_for(kind, case_type)
    if row is not None:
        path = file_path(row.path)
        if path is None:
            raise TransitionNotAllowed({"kind": _("The template's file is missing: ask an administrator to upload "
                                                  "it again.")})
        return row, path.read_bytes(), row.name
    default = default_template(kind, case_type)
    if default is None:
        raise TransitionNotAllowed({"kind": _("There is no template for this kind of document.")})
    return None, default.read_bytes(), f"{default.name} (CivicGrid)"


def template_check(content: bytes) -> None:
    """A template must be a Word file docxtpl can read and render (422 naming ``file`` otherwise)."""
    from docxtpl import DocxTemplate

    if not content.startswith(_ZIP):
        raise TransitionNotAllowed({"file": _("A template is a Word file (.docx).")})
    try:
        DocxTemplate(io.BytesIO(content)).render(sample_context(), autoescape=True)
    except Exception as exc:  # a broken Word file, a Jinja syntax error in it
        raise TransitionNotAllowed({"file": _("The template cannot be used: %(error)s") % {"error": str(exc)[:200]}}
                                   ) from None


def template_replace(*, actor: Any, kind: str, case_type: str = "", content: bytes, name: str = "") -> DocumentTemplate:
    """Make ``content`` (a .docx with docxtpl's tags) the active template of ``kind`` for the case
    type (empty: every type), as its next version; the previous one is kept, inactive. Audited."""
    if kind not in registry.DOCUMENT_KINDS:
        raise TransitionNotAllowed({"kind": _("Choose one of the options.")})
    if case_type:
        try:
            registry.get(case_type)
        except LookupError:
            raise TransitionNotAllowed({"case_type": _("No case type %(code)s.") % {"code": case_type[:32]}}) from None
    template_check(content)
    rel, digest = file_store(content, "docx", field="file")
    with transaction.atomic():
        current = list(DocumentTemplate.objects.select_for_update().filter(kind=kind, case_type=case_type))
        before = next(({"version": t.version, "sha256": t.sha256} for t in current if t.active), None)
        DocumentTemplate.objects.filter(kind=kind, case_type=case_type, active=True).update(active=False)
        row = DocumentTemplate.objects.create(
            kind=kind, case_type=case_type, name=(Path(name).name if name else f"{kind}.docx")[:200],
            version=max((t.version for t in current), default=0) + 1, active=True, path=rel, sha256=digest,
            size=len(content), uploaded_by=engine._account(actor))
        audit_record(actor=actor, action="cases.document_template.replace", target=row, before=before,
                     after={"kind": kind, "case_type": case_type, "version": row.version, "sha256": digest})
    return row


# --- the context a template is rendered with --------------------------------------------------------


def _when(value: dt.datetime | None, fmt: str = DATETIME) -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def _name(obj: Any) -> str:
    return str(getattr(obj, "name", "") or "") if obj is not None else ""


def document_context(case: Case, *, actor: Any = None, title: str = "", now: dt.datetime | None = None
                     ) -> dict[str, Any]:
    """What a template may print (docxtpl's ``{{ name }}``): the case's fields, its place, units,
    clocks and steps, the reporter masked, who generated it and when; plus the type's own
    (``CaseType.document_context(case)``, e.g. a detail row's fields or the parties)."""
    from civicgrid.cases.rules import GENERIC_LABELS

    ctype = registry.of(case)
    now = now or timezone.now()
    meta = case._meta
    labels = {name: str(t.label or name) for name, t in ctype.transitions.items()}
    steps = [{"at": _when(t.at), "actor": t.actor_name, "action": labels.get(t.action)
              or str(GENERIC_LABELS.get(t.action, t.action)), "state": str(ctype.states.get(t.to_state, t.to_state)),
              "note": t.note}
             for t in case.timeline.order_by("at", "id")]
    assignments = [{"unit": _name(a.department) or _name(a.region) or str(a.person or ""),
                    "role": a.get_role_display(), "state": a.get_state_display(), "at": _when(a.created_at)}
                   for a in case.assignments.select_related("department", "region", "person").order_by("id")]
    context: dict[str, Any] = {
        "tracking_code": case.tracking_code, "title": case.title, "text": case.text,
        "case_type": str(ctype.label), "state": str(ctype.states.get(case.state, case.state)),
        "channel": case.get_channel_display(), "priority": case.get_priority_display(),
        "category": _name(case.category) if case.category_id else "",
        "address": case.address, "district": _name(case.district), "street": _name(case.street),
        "community": _name(case.community), "grid": _name(case.grid),
        "owner_region": _name(case.owner_region), "lead_department": _name(case.lead_department),
        "reporter_name": "" if case.anonymous else meta.get_field("reporter_name").masked(case),  # type: ignore[union-attr]
        "reporter_phone": "" if case.anonymous else meta.get_field("reporter_phone").masked(case),  # type: ignore[union-attr]
        "created_at": _when(case.created_at), "handling_due_at": _when(case.handling_due_at),
        "closed_at": _when(case.closed_at), "steps": steps, "assignments": assignments,
        "document_title": title, "generated_at": _when(now), "generated_on": _when(now, DATE),
        "generated_by": str(actor) if getattr(actor, "is_authenticated", False) else _("the platform"),
        "parties": [],
    }
    extra = getattr(ctype, "document_context", None)
    if extra is not None:
        context.update(extra(case) or {})
    return context


def sample_context() -> dict[str, Any]:
    """A context with every name of :func:`document_context`, to try a template with."""
    step = {"at": "2026-01-05 09:30", "actor": "张三", "action": "派单", "state": "处置中", "note": "请尽快处理"}
    return {"tracking_code": "ABCDEFGH23", "title": "示例", "text": "示例", "case_type": "事件", "state": "处置中",
            "channel": "12345", "priority": "一般", "category": "市容", "address": "人民路1号", "district": "甲区",
            "street": "甲街道", "community": "甲社区", "grid": "一号网格", "owner_region": "甲街道",
            "lead_department": "城管局", "reporter_name": "张*", "reporter_phone": "138****0000",
            "created_at": "2026-01-05 09:00", "handling_due_at": "2026-01-12 17:00", "closed_at": "",
            "steps": [step], "assignments": [{"unit": "城管局", "role": "主办", "state": "已签收", "at": step["at"]}],
            "document_title": "示例", "generated_at": "2026-01-05 10:00", "generated_on": "2026-01-05",
            "generated_by": "张三", "parties": [{"kind": "申请人", "name": "李*"}]}


# --- rendering ----------------------------------------------------------------------------------------

PDF_CSS = """
@page { size: A4; margin: 20mm 18mm; }
body { font-family: "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; font-size: 11pt;
       line-height: 1.5; }
h1 { font-size: 18pt; text-align: center; } h2 { font-size: 14pt; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; }
td, th { border: 0.6pt solid #000; padding: 3pt 5pt; vertical-align: top; }
p { margin: 3pt 0; }
"""


def docx_render(template: bytes, context: dict[str, Any]) -> bytes:
    """The template rendered with ``context`` (docxtpl; values are escaped for Word's XML)."""
    from docxtpl import DocxTemplate

    doc = DocxTemplate(io.BytesIO(template))
    try:
        doc.render(context, autoescape=True)
    except Exception as exc:  # a template with a Jinja error (an administrator's upload)
        raise TransitionNotAllowed({"kind": _("The template cannot be rendered: %(error)s")
                                    % {"error": str(exc)[:200]}}) from None
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def docx_to_pdf(docx: bytes, title: str = "") -> bytes:
    """A PDF of a Word file: its content as HTML (mammoth: paragraphs, headings, tables, lists),
    laid out on A4 with a CJK font by WeasyPrint."""
    import mammoth
    import weasyprint

    body = mammoth.convert_to_html(io.BytesIO(docx)).value
    page = (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{PDF_CSS}</style></head><body>{body}</body></html>")
    pdf: bytes = weasyprint.HTML(string=page).write_pdf()
    return pdf


# --- the writes ---------------------------------------------------------------------------------------


def _next_version(document: CaseDocument, now: dt.datetime) -> int:
    """The document's next version number, its row locked until the transaction ends."""
    locked = CaseDocument.objects.select_for_update().get(pk=document.pk)
    number = locked.current_version + 1
    CaseDocument.objects.filter(pk=document.pk).update(current_version=number, updated_at=now)
    document.current_version, document.updated_at = number, now
    return number


def _document_of(case: Case, document: CaseDocument | int | None) -> CaseDocument | None:
    if document is None or (isinstance(document, CaseDocument) and document.case_id == case.pk):
        return document
    pk = document.pk if isinstance(document, CaseDocument) else document
    found = CaseDocument.objects.filter(pk=pk, case=case).first()
    if found is None:
        raise TransitionNotAllowed({"document": _("This case has no such document.")})
    return found


def _version_out(v: DocumentVersion) -> dict[str, Any]:
    return {"document": v.document_id, "version": v.number, "kind": v.document.kind, "title": v.document.title,
            "name": v.name, "sha256": v.sha256, "size": v.size, "source": v.source}


def _record(case: Case, actor: Any, action: str, now: dt.datetime, note: str, data: dict[str, Any]) -> None:
    engine._step(case=case, actor=actor, action=action, at=now, from_state=case.state, to_state=case.state,
                 note=note, data=data, after=data)


def document_upload(*, actor: Any, case: Case, files: Sequence[Any], kind: str = DocumentKind.OTHER,
                    title: str = "", document: CaseDocument | int | None = None, note: str = "",
                    now: dt.datetime | None = None) -> list[DocumentVersion]:
    """File uploaded files (objects with ``name`` and ``content``) on the case: each a new document
    of ``kind`` titled ``title`` (else its file name), or, with ``document``, the next version of
    that document. Refused on a merged case (its documents go to the case it follows)."""
    now = now or timezone.now()
    engine._require_role(actor, case, engine.ctype_roles(case, "upload_document") | {registry.SYSTEM},
                         _("upload a document to"))
    if case.merged_into_id is not None:
        raise TransitionNotAllowed({"action": _("A merged case takes no documents: add them to the case it follows.")})
    if not files:
        raise TransitionNotAllowed({"files": _("Choose a file.")})
    if kind not in DocumentKind.values:
        raise TransitionNotAllowed({"kind": _("Choose one of the options.")})
    checked = [(u, *file_kind(str(getattr(u, "name", "") or "file"), bytes(u.content), "files")) for u in files]
    existing = _document_of(case, document)
    if existing is not None and len(files) > 1:
        raise TransitionNotAllowed({"files": _("A new version is one file.")})
    stored = [(u, mime, *file_store(bytes(u.content), ext)) for u, mime, ext in checked]
    out = []
    with batched():
        for u, mime, rel, digest in stored:
            name = Path(str(getattr(u, "name", "") or f"file.{rel.rsplit('.', 1)[-1]}")).name[:200]
            doc = existing or CaseDocument.objects.create(case=case, kind=kind, title=(title or name)[:200],
                                                          created_by=engine._account(actor), created_at=now,
                                                          updated_at=now)
            v = DocumentVersion.objects.create(
                document=doc, number=_next_version(doc, now), source=DocumentVersion.Source.UPLOADED, name=name,
                path=rel, content_type=mime, size=len(u.content), sha256=digest, note=note[:500],
                created_by=engine._account(actor), created_at=now)
            _record(case, actor, "upload_document", now, note, _version_out(v))
            out.append(v)
    return out


def document_generate(*, actor: Any, case: Case, kind: str, title: str = "", note: str = "",
                      now: dt.datetime | None = None) -> DocumentVersion:
    """Draw a document of ``kind`` (one the case's type declares) from its active template with the
    case's context: the .docx and its PDF, as the next version of the case's document of that kind
    drawn before (else a new document). The version names the template and its version."""
    now = now or timezone.now()
    engine._require_role(actor, case, engine.ctype_roles(case, "generate_document") | {registry.SYSTEM},
                         _("generate a document for"))
    if case.merged_into_id is not None:
        raise TransitionNotAllowed({"action": _("A merged case takes no documents: add them to the case it follows.")})
    ctype = registry.of(case)
    if kind not in ctype.documents:
        raise TransitionNotAllowed({"kind": _("This case type has no document of that kind.")})
    row, template, template_name = _template_bytes(kind, case.case_type)
    doc = CaseDocument.objects.filter(case=case, kind=kind, versions__source=DocumentVersion.Source.GENERATED
                                      ).order_by("-id").first()
    title = (title or (doc.title if doc else f"{DocumentKind(kind).label} {case.tracking_code}"))[:200]
    docx = docx_render(template, document_context(case, actor=actor, title=title, now=now))
    pdf = docx_to_pdf(docx, title)
    rel, digest = file_store(docx, "docx")
    pdf_rel, pdf_digest = file_store(pdf, "pdf")
    with batched():
        if doc is None:
            doc = CaseDocument.objects.create(case=case, kind=kind, title=title, created_by=engine._account(actor),
                                              created_at=now, updated_at=now)
        elif doc.title != title:
            CaseDocument.objects.filter(pk=doc.pk).update(title=title)
            doc.title = title
        v = DocumentVersion.objects.create(
            document=doc, number=_next_version(doc, now), source=DocumentVersion.Source.GENERATED,
            template=row, template_version=row.version if row else None, template_name=template_name[:200],
            name=f"{kind}-{case.tracking_code}-v{doc.current_version}.docx", path=rel, content_type=DOCX,
            size=len(docx), sha256=digest, pdf_path=pdf_rel, pdf_size=len(pdf), pdf_sha256=pdf_digest,
            note=note[:500], created_by=engine._account(actor), created_at=now)
        _record(case, actor, "generate_document", now, note,
                {**_version_out(v), "template": template_name, "template_version": v.template_version})
    return v


def delivery_record(*, actor: Any, case: Case, document: CaseDocument | int, method: str,
                    party: Party | int | None = None, party_name: str = "", delivered_at: dt.datetime | None = None,
                    version: int | None = None, proof: Sequence[Any] = (), note: str = "",
                    now: dt.datetime | None = None) -> Delivery:
    """Record that a version of a document (its current one unless ``version`` is given) reached a
    party (送达): how (in person, by post, SMS, online), when (not in the future; legal windows run
    from it), to whom (``party``: one of the case's parties, or its id — 422 ``party`` for another
    case's; its name is kept with the delivery, encrypted; ``party_name`` alone only for a caller
    without parties, e.g. an import), with an optional proof (a signed receipt, a postal return slip)."""
    now = now or timezone.now()
    engine._require_role(actor, case, engine.ctype_roles(case, "record_delivery") | {registry.SYSTEM},
                         _("record a delivery for"))
    doc = _document_of(case, document)
    assert doc is not None
    chosen: Party | None = None
    if party is not None:
        chosen = Party.objects.filter(case=case, pk=party.pk if isinstance(party, Party) else party).first()
        if chosen is None:
            raise TransitionNotAllowed({"party": _("Choose one of the case's parties.")})
        party_name = chosen.name or party_name or str(chosen.get_kind_display())
    party_name = (party_name or "").strip()
    if not party_name:
        raise TransitionNotAllowed({"party": _("Choose one of the case's parties.")})
    if method not in DeliveryMethod.values:
        raise TransitionNotAllowed({"method": _("Choose one of the options.")})
    delivered_at = delivered_at or now
    if delivered_at > now + dt.timedelta(minutes=5):
        raise TransitionNotAllowed({"delivered_at": _("A delivery cannot be in the future.")})
    number = version or doc.current_version
    v = DocumentVersion.objects.filter(document=doc, number=number).first()
    if v is None:
        raise TransitionNotAllowed({"version": _("This document has no such version.")})
    if len(proof) > 1:
        raise TransitionNotAllowed({"proof": _("One proof file.")})
    proof_fields: dict[str, Any] = {}
    if proof:
        p = proof[0]
        mime, ext = file_kind(str(getattr(p, "name", "") or "proof"), bytes(p.content), "proof")
        rel, digest = file_store(bytes(p.content), ext, field="proof")
        proof_fields = {"proof_name": Path(str(getattr(p, "name", "") or f"proof.{ext}")).name[:200],
                        "proof_path": rel, "proof_content_type": mime, "proof_sha256": digest}
    with batched():
        row = Delivery.objects.create(version=v, party_name=party_name[:200], party=chosen, method=method,
                                      delivered_at=delivered_at, note=note[:500], recorded_by=engine._account(actor),
                                      recorded_at=now, **proof_fields)
        _record(case, actor, "record_delivery", now, note,
                {"document": doc.pk, "title": doc.title, "version": v.number, "method": method,
                 "delivered_at": delivered_at.isoformat(), "delivery": row.pk,
                 "party": chosen.pk if chosen is not None else None,
                 "proof": proof_fields.get("proof_sha256", "")})
    return row
