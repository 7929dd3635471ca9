"""Writes for regions and grids: GeoJSON import (dry run by default), subdivision, city creation.

The import plans every feature first (pure: reads the database, writes nothing), so a dry run
reports exactly what a commit would do; ``commit=True`` then applies the plan in one transaction
and opens a new boundary version when any shape changes (边界版本).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from django.db import transaction
from django.db.models import F, Max
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_bulk, audit_entry, audit_record, snapshot
from civicgrid.geo import crs as crsmod
from civicgrid.geo.models import LEVELS, Boundary, BoundaryVersion, Level, Region, parent_level
from civicgrid.geo.subdivide import subdivide
from civicgrid.geo.validators import region_name_problem

STAT_CODE_LENGTH = {"city": 6, "district": 6, "street": 9, "community": 12, "grid": 15}
CRS_CHOICES = ("wgs84", "gcj02")


class GeoImportError(ValueError):
    """The file as a whole cannot be imported (not JSON, not a FeatureCollection, bad option)."""


@dataclass
class Rejection:
    index: int
    name: str
    reason: str


@dataclass
class PlannedRegion:
    index: int
    name: str
    geom: BaseGeometry  # WGS-84
    raw_code: str
    parent: Region | None
    code: str = ""
    existing: Region | None = None
    action: str = "create"  # create | reshape | rename | move | unchanged (several joined by +)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    level: str
    source: str
    features: int = 0
    planned: list[PlannedRegion] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: list[Region] = field(default_factory=list)
    committed: bool = False
    version: int | None = None

    def count(self, action: str) -> int:
        return sum(1 for p in self.planned if action in p.action.split("+"))

    @property
    def ok(self) -> bool:
        return not self.rejected


# ---------------------------------------------------------------------------------------------
# reading


def geojson_load(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise GeoImportError(f"{p}: no such file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise GeoImportError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise GeoImportError(f"{p}: not UTF-8 or GBK text")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeoImportError(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(
            data.get("features"), list):
        raise GeoImportError(f"{p}: not a GeoJSON FeatureCollection")
    return data


def _prop(props: dict[str, Any], path: str | None) -> Any:
    """A property by name, or by a dotted path into nested objects (``parent.adcode``)."""
    if not path:
        return None
    value: Any = props
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _check_geometry(raw: Any, *, source_crs: str, repair: bool) -> tuple[BaseGeometry | None, str, list[str]]:
    """Parse and validate one feature's geometry; returns (wgs84 geometry, reason if rejected, notes)."""
    notes: list[str] = []
    if not raw:
        return None, "no geometry", notes
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        return None, f"geometry is {kind}, not Polygon or MultiPolygon", notes
    try:
        geom = shape(raw)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        return None, f"malformed coordinates ({exc})", notes
    if geom.is_empty:
        return None, "empty geometry", notes
    coords = shapely.get_coordinates(geom)
    if not ((coords[:, 0] >= -180).all() and (coords[:, 0] <= 180).all()
            and (coords[:, 1] >= -90).all() and (coords[:, 1] <= 90).all()):
        bad = coords[(abs(coords[:, 0]) > 180) | (abs(coords[:, 1]) > 90)][0]
        return None, (f"coordinates out of range (lon {bad[0]:g}, lat {bad[1]:g}; "
                      "lon must be within ±180, lat ±90)"), notes
    reason = shapely.is_valid_reason(geom)
    if reason != "Valid Geometry":
        if not repair:
            return None, f"invalid geometry: {reason} (use --repair to fix it)", notes
        geom = _polygonal(shapely.make_valid(geom))
        if geom.is_empty:
            return None, f"invalid geometry that cannot be repaired: {reason}", notes
        notes.append(f"repaired invalid geometry ({reason})")
    if geom.area == 0:
        return None, "zero-area geometry", notes
    if source_crs == "gcj02":
        geom = crsmod.geometry_gcj02_to_wgs84(geom)
        if not geom.is_valid:
            geom = _polygonal(shapely.make_valid(geom))
    return geom, "", notes


def _is_stat_code(code: str, level: str, parent: Region | None) -> bool:
    if not code.isdigit() or len(code) != STAT_CODE_LENGTH[level]:
        return False
    if parent is None:
        return True
    if level == "district":
        return code[:4] == parent.code[:4]
    return code.startswith(parent.code)


def _area_m2(geom: BaseGeometry) -> float:
    c = geom.centroid
    mx, my = crsmod.meters_per_degree(c.y)
    return float(geom.area * mx * my)


def _current_shapes(regions: Iterable[Region]) -> dict[int, BaseGeometry]:
    ids = [r.pk for r in regions]
    rows = Boundary.objects.filter(region_id__in=ids, valid_to__isnull=True).values_list("region_id", "geom_wkb")
    return {rid: shapely.from_wkb(bytes(wkb)) for rid, wkb in rows}


_SUFFIXES = ("新区", "区", "县", "市", "街道", "镇", "乡", "社区", "村")


def _bare_name(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# ---------------------------------------------------------------------------------------------
# planning


def regions_import_plan(
    data: dict[str, Any],
    *,
    level: str,
    source: str = "",
    code_field: str | None = None,
    name_field: str = "name",
    parent_field: str | None = None,
    parent_code: str | None = None,
    source_crs: str = "wgs84",
    repair: bool = False,
    keep_codes: bool = False,
    overlap_tolerance: float = 0.01,
    allow_move: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Decide, feature by feature, what importing ``data`` at ``level`` would do. Writes nothing.

    A feature is the stored region with the same code; or, under the same parent, the one with the
    same source id (without a code field: the same name). A region is moved to another parent only
    with ``allow_move``: one file must never silently pull another file's regions elsewhere."""
    if level not in LEVELS:
        raise GeoImportError(f"level must be one of {', '.join(LEVELS)}")
    if not 0 <= overlap_tolerance < 1:
        raise GeoImportError("the overlap tolerance is a share of the smaller area, from 0 up to (not including) 1")
    if source_crs not in CRS_CHOICES:
        raise GeoImportError(f"crs must be one of {', '.join(CRS_CHOICES)}")
    features = data.get("features") or []
    report = ImportReport(level=level, source=source, features=len(features))
    _check_fields(features, code_field=code_field, name_field=name_field, parent_field=parent_field, report=report)
    if "crs" in data:
        report.notes.append(f"the file declares crs {json.dumps(data['crs'], ensure_ascii=False)[:80]}; "
                            f"coordinates were read as {source_crs} as asked")
    if source_crs == "gcj02":
        report.notes.append("coordinates read as GCJ-02 and converted to WGS-84 for storage")

    plevel = parent_level(level)
    parents: list[Region] = list(Region.objects.filter(level=plevel, is_active=True)) if plevel else []
    by_code = {r.code: r for r in parents}
    by_name: dict[str, list[Region]] = {}
    by_bare: dict[str, list[Region]] = {}
    for r in parents:
        by_name.setdefault(r.name, []).append(r)
        by_bare.setdefault(_bare_name(r.name), []).append(r)
    fixed_parent: Region | None = None
    if plevel and parent_code:
        fixed_parent = by_code.get(parent_code)
        if fixed_parent is None:
            raise GeoImportError(f"--parent {parent_code}: no active {plevel} with that code")
    if plevel and not parents:
        raise GeoImportError(f"there is no {plevel} yet: import the {plevel} level first"
                             + (" (or create the city with `civicgrid geo city`)" if plevel == "city" else ""))
    parent_shapes = _current_shapes(parents) if plevel else {}
    parent_ids = list(parent_shapes)
    parent_tree = shapely.STRtree([parent_shapes[i] for i in parent_ids]) if parent_ids else None
    parents_by_id = {r.pk: r for r in parents}

    existing = list(Region.objects.filter(level=level).select_related("parent"))
    existing_by_code = {r.code: r for r in existing}
    existing_by_source = {(r.parent_id, r.source_id): r for r in existing if r.source_id}
    existing_by_parent_name = {(r.parent_id, r.name): r for r in existing}
    taken_codes = set(Region.objects.exclude(level=level).values_list("code", flat=True))

    seen_codes: dict[str, int] = {}
    mismatch_notes: dict[str, str] = {}
    generated_example: str | None = None
    non_stat_count = 0

    def overlap_parent(geom: BaseGeometry) -> tuple[Region | None, float]:
        if parent_tree is None:
            return None, 0.0
        best, best_area = None, 0.0
        for j in parent_tree.query(geom, predicate="intersects"):
            a = geom.intersection(parent_shapes[parent_ids[j]]).area
            if a > best_area:
                best, best_area = parents_by_id[parent_ids[j]], a
        return best, (best_area / geom.area if geom.area else 0.0)

    for i, feature in enumerate(features):
        if progress and i % 200 == 0:
            progress(i)
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        name = _text(_prop(props, name_field))
        label = name or "(no name)"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            report.rejected.append(Rejection(i, label, "not a GeoJSON Feature"))
            continue
        if not name:
            report.rejected.append(Rejection(i, label, f"missing name (property {name_field!r} is empty or absent)"))
            continue
        problem = region_name_problem(name)
        if problem:  # a name is shown on every map: no markup, no control characters
            report.rejected.append(Rejection(i, name.encode("unicode_escape").decode("ascii")[:120],
                                             f"name {name_field!r} refused: {problem}"))
            continue
        raw_code = _text(_prop(props, code_field)) if code_field else ""
        if code_field and not raw_code:
            report.rejected.append(Rejection(i, label, f"missing code (property {code_field!r} is empty or absent)"))
            continue
        if raw_code and raw_code in seen_codes:
            report.rejected.append(Rejection(i, label,
                                             f"duplicate code {raw_code} (also feature #{seen_codes[raw_code]})"))
            continue
        geom, reason, gnotes = _check_geometry(feature.get("geometry"), source_crs=source_crs, repair=repair)
        if geom is None:
            report.rejected.append(Rejection(i, label, reason))
            continue

        parent: Region | None = None
        pnotes: list[str] = []
        if plevel:
            if fixed_parent is not None:
                parent = fixed_parent
            else:
                pval = _text(_prop(props, parent_field)) if parent_field else ""
                if pval:
                    parent = by_code.get(pval)
                    if parent is None and len(by_name.get(pval, [])) == 1:
                        parent = by_name[pval][0]
                    if parent is None and len(by_bare.get(_bare_name(pval), [])) == 1:
                        parent = by_bare[_bare_name(pval)][0]
                        mismatch_notes.setdefault(pval, f"parent {pval!r} matched {parent.name} ({parent.code}) "
                                                        f"by name without its suffix")
                    if parent is None:
                        parent, share = overlap_parent(geom)
                        if parent is None:
                            report.rejected.append(Rejection(
                                i, label, f"parent {pval!r} not found: no {plevel} has that code or name, "
                                          f"and the shape overlaps no {plevel}"))
                            continue
                        mismatch_notes.setdefault(
                            pval, f"parent {pval!r} is not the code or name of any {plevel}: "
                                  f"features naming it were placed by largest overlap")
                        pnotes.append(f"parent {pval!r} not found by code or name; placed in {parent.name} "
                                      f"({parent.code}) by largest overlap ({share:.0%} of its area)")
                elif len(parents) == 1:
                    parent = parents[0]
                else:
                    parent, share = overlap_parent(geom)
                    if parent is None:
                        report.rejected.append(Rejection(i, label, f"parent not found: the shape overlaps no {plevel}"))
                        continue
                    pnotes.append(f"placed in {parent.name} ({parent.code}) by largest overlap ({share:.0%})")

        # Which existing region is this feature? Code first, then the source id, then name in parent.
        match = None
        parent_id = parent.pk if parent else None
        if raw_code:
            match = existing_by_code.get(raw_code) or existing_by_source.get((parent_id, raw_code))
        if match is None and not code_field:
            match = existing_by_parent_name.get((parent_id, name))
        if match is not None and match.parent_id != parent_id and not allow_move:
            where = f"{match.parent.name} ({match.parent.code})" if match.parent else "no parent"
            here = parent.name if parent else "-"
            report.rejected.append(Rejection(
                i, label, f"code {match.code} is {match.name} under {where}, not under {here}: "
                          "use --allow-move to move it"))
            continue
        if raw_code:
            seen_codes[raw_code] = i

        planned = PlannedRegion(index=i, name=name, geom=geom, raw_code=raw_code, parent=parent,
                                existing=match, notes=gnotes + pnotes)
        if match is not None:
            planned.code = match.code
        elif raw_code and (keep_codes or _is_stat_code(raw_code, level, parent)):
            planned.code = raw_code
        elif raw_code:
            non_stat_count += 1
        if planned.code and planned.code in taken_codes:
            report.rejected.append(Rejection(i, label,
                                             f"code {planned.code} is already used by a region of another level"))
            continue
        report.planned.append(planned)

    _plan_codes(report, level, non_stat_count, code_field, generated_example)
    _plan_overlaps(report, level, overlap_tolerance)
    _plan_changes(report)
    report.notes.extend(mismatch_notes.values())

    matched_ids = {p.existing.pk for p in report.planned if p.existing is not None}
    touched_parents = {p.parent.pk if p.parent else None for p in report.planned}
    report.missing = [r for r in existing if r.is_active and r.pk not in matched_ids
                      and (r.parent_id in touched_parents)]
    return report


def _check_fields(features: list[Any], *, code_field: str | None, name_field: str, parent_field: str | None,
                 report: ImportReport) -> None:
    """A property that no feature has is a typo, not 74 rejected features: say so once."""
    seen: set[str] = set()
    for f in features:
        if isinstance(f, dict) and isinstance(f.get("properties"), dict):
            seen.update(f["properties"])
    if not features:
        return
    available = ", ".join(sorted(seen)[:30]) or "none"
    for option, name in (("--code-field", code_field), ("--name-field", name_field)):
        if name and name.split(".")[0] not in seen:
            raise GeoImportError(f"{option} {name}: no feature has that property (properties: {available})")
    if parent_field and parent_field.split(".")[0] not in seen:
        raise GeoImportError(f"--parent-field {parent_field}: no feature has that property (properties: {available})")


def _plan_codes(report: ImportReport, level: str, non_stat_count: int, code_field: str | None,
                example: str | None) -> None:
    """Give hierarchical codes (parent code + 3-digit serial) to features without a usable one."""
    next_serial: dict[int | None, int] = {}
    used = set(Region.objects.values_list("code", flat=True)) | {p.code for p in report.planned if p.code}
    generated = []
    for planned in report.planned:
        if planned.code:
            continue
        pid = planned.parent.pk if planned.parent else None
        prefix = planned.parent.code if planned.parent else ""
        serial = next_serial.get(pid, 0)
        while True:
            serial += 1
            code = f"{prefix}{serial:03d}"
            if code not in used:
                break
        next_serial[pid] = serial
        used.add(code)
        planned.code = code
        generated.append(planned)
    if generated:
        first = generated[0]
        if code_field and non_stat_count:
            report.notes.append(
                f"{non_stat_count} values of {code_field!r} are not {STAT_CODE_LENGTH[level]}-digit statistical codes "
                f"of their parent: generated hierarchical codes (e.g. {first.code} for {first.name}"
                f"{', source id ' + first.raw_code if first.raw_code else ''}); the file's value is kept as the "
                f"source id for re-imports (use --keep-codes to use them as they are)")
        else:
            report.notes.append(f"generated hierarchical codes for {len(generated)} features "
                                f"(e.g. {first.code} for {first.name})")


def _plan_overlaps(report: ImportReport, level: str, tolerance: float) -> None:
    """Reject a feature that overlaps a sibling (same parent) by more than ``tolerance`` of the
    smaller area; the earlier feature in the file, or the region already stored, is kept."""
    planned = report.planned
    replaced = {p.existing.pk for p in planned if p.existing is not None}
    parent_ids = {p.parent.pk if p.parent else None for p in planned}
    siblings = Region.objects.filter(level=level, is_active=True, parent_id__in=[x for x in parent_ids if x])
    stored = [r for r in siblings if r.pk not in replaced]
    stored_shapes = _current_shapes(stored)
    stored = [r for r in stored if r.pk in stored_shapes]
    shapes: list[BaseGeometry] = [p.geom for p in planned] + [stored_shapes[r.pk] for r in stored]
    owners: list[tuple[str, Any]] = [("plan", p) for p in planned] + [("stored", r) for r in stored]
    if len(shapes) < 2:
        return
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    rejected: set[int] = set()
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a == b:
            continue
        kind_a, obj_a = owners[a]
        kind_b, obj_b = owners[b]
        if kind_a != "plan":
            continue
        pa = obj_a.parent.pk if obj_a.parent else None
        pb = (obj_b.parent.pk if obj_b.parent else None) if kind_b == "plan" else obj_b.parent_id
        if pa != pb:
            continue
        # The later feature gives way; stored regions always win.
        if kind_b == "plan" and (obj_b.index > obj_a.index or id(obj_b) in rejected):
            continue
        if id(obj_a) in rejected:
            continue
        inter = shapes[a].intersection(shapes[b]).area
        ratio = inter / min(shapes[a].area, shapes[b].area)
        if ratio > tolerance:
            other = (f"feature #{obj_b.index} {obj_b.name}" if kind_b == "plan"
                     else f"stored {obj_b.name} ({obj_b.code})")
            report.rejected.append(Rejection(obj_a.index, obj_a.name,
                                             f"overlaps sibling {other} by {ratio:.1%} of the smaller area "
                                             f"(tolerance {tolerance:.1%})"))
            rejected.add(id(obj_a))
    if rejected:
        report.planned = [p for p in planned if id(p) not in rejected]
    report.rejected.sort(key=lambda r: r.index)


def _plan_changes(report: ImportReport) -> None:
    existing = [p.existing for p in report.planned if p.existing is not None]
    shapes = _current_shapes(existing)
    for p in report.planned:
        if p.existing is None:
            p.action = "create"
            continue
        actions = []
        old = shapes.get(p.existing.pk)
        if old is None or not shapely.equals_exact(shapely.normalize(old), shapely.normalize(p.geom), tolerance=1e-9):
            actions.append("reshape")
        if p.existing.name != p.name:
            actions.append("rename")
        if (p.parent.pk if p.parent else None) != p.existing.parent_id:
            actions.append("move")
        if not p.existing.is_active:
            actions.append("reactivate")
        p.action = "+".join(actions) or "unchanged"


# ---------------------------------------------------------------------------------------------
# applying


def _chain_from(parent: Region | None) -> dict[str, int | None]:
    chain: dict[str, int | None] = {lv: None for lv in LEVELS}
    if parent is not None:
        chain.update(parent.chain())
    return chain


def _next_version(*, level: str, source: str, note: str, actor: Any) -> BoundaryVersion:
    number = (BoundaryVersion.objects.aggregate(m=Max("number"))["m"] or 0) + 1
    return BoundaryVersion.objects.create(number=number, level=level, source=source[:300], note=note,
                                          created_by=actor if getattr(actor, "is_authenticated", False) else None)


def _boundary(region_id: int, geom: BaseGeometry, version: BoundaryVersion) -> Boundary:
    minx, miny, maxx, maxy = geom.bounds
    return Boundary(region_id=region_id, valid_from=version, geom_wkb=shapely.to_wkb(geom), min_x=minx,
                    min_y=miny, max_x=maxx, max_y=maxy, area_m2=_area_m2(geom))


def regions_import_apply(report: ImportReport, *, actor: Any, retire_missing: bool = False) -> ImportReport:
    """Write a plan made by :func:`regions_import_plan` in one transaction."""
    level = report.level
    creates = [p for p in report.planned if p.action == "create"]
    reshapes = [p for p in report.planned if "reshape" in p.action.split("+")]
    updates = [p for p in report.planned if p.existing is not None and p.action != "unchanged"]
    retire: list[Region] = []
    if retire_missing and report.missing:
        if report.rejected:
            raise GeoImportError(f"{len(report.rejected)} features were rejected: fix them before retiring regions "
                                 "missing from the file (a rejected feature may be one of them); nothing was written")
        busy = set(Region.objects.filter(parent__in=report.missing, is_active=True).values_list("parent_id", flat=True))
        retire = [r for r in report.missing if r.pk not in busy]
        for r in report.missing:
            if r.pk in busy:
                report.notes.append(f"{r.name} ({r.code}) is not in the file but still has active regions below it: "
                                    "kept (retire those first)")
    if not (creates or updates or retire):
        report.committed = True
        return report
    with transaction.atomic():
        version = None
        if creates or reshapes or retire:
            version = _next_version(level=level, source=report.source, actor=actor,
                                    note=f"{len(creates)} new, {len(reshapes)} reshaped, {len(retire)} retired {level}")
            report.version = version.number
        new_regions = [
            Region(level=level, code=p.code, name=p.name, parent=p.parent, source_id=p.raw_code,
                   **{f"{lv}_id": v for lv, v in _chain_from(p.parent).items()})
            for p in creates
        ]
        Region.objects.bulk_create(new_regions, batch_size=1000)
        # Each region is its own chain link at its level: one set-based UPDATE, not a row per region.
        Region.objects.filter(level=level, **{f"{level}__isnull": True}).update(**{level: F("pk")})
        for region in new_regions:
            setattr(region, f"{level}_id", region.pk)
        boundaries = [_boundary(r.pk, p.geom, version) for r, p in zip(new_regions, creates, strict=True)]  # type: ignore[arg-type]

        audits: list[AuditEntry] = []
        for region in new_regions:
            audits.append(audit_entry(actor=actor, action="geo.region.create", target=region,
                                      after=snapshot(region)))
        for p in updates:
            region = p.existing
            assert region is not None
            before = snapshot(region)
            region.name = p.name
            region.is_active = True
            moved = region.parent_id != (p.parent.pk if p.parent else None)
            region.parent = p.parent
            for lv, v in _chain_from(p.parent).items():
                if LEVELS.index(lv) < LEVELS.index(level):
                    setattr(region, f"{lv}_id", v)
            region.save()
            if moved:
                _rechain_descendants(region)
            if "reshape" in p.action.split("+"):
                Boundary.objects.filter(region=region, valid_to__isnull=True).update(valid_to=version)
                boundaries.append(_boundary(region.pk, p.geom, version))  # type: ignore[arg-type]
            audits.append(audit_entry(actor=actor, action=f"geo.region.{p.action}", target=region,
                                      before=before, after=snapshot(region)))
        for region in retire:
            before = snapshot(region)
            region.is_active = False
            region.save(update_fields=["is_active", "updated_at"])
            Boundary.objects.filter(region=region, valid_to__isnull=True).update(valid_to=version)
            audits.append(audit_entry(actor=actor, action="geo.region.retire", target=region,
                                      before=before, after=snapshot(region)))
        Boundary.objects.bulk_create(boundaries, batch_size=1000)
        audit_bulk(audits)
        audit_record(actor=actor, action="geo.import", target_type="geo.boundaryversion",
                     target_id=version.pk if version else "", target_repr=report.source[:200],
                     extra={"level": level, "created": len(creates), "changed": len(updates),
                            "retired": len(retire), "rejected": len(report.rejected),
                            "version": version.number if version else None})
        transaction.on_commit(_index_changed)
    report.committed = True
    return report


def _rechain_descendants(region: Region) -> None:
    """After a move, copy the new chain onto every region below (levels below keep their own)."""
    level_i = LEVELS.index(region.level)
    frontier = [region]
    while frontier:
        children = list(Region.objects.filter(parent__in=frontier))
        for child in children:
            parent = next(r for r in frontier if r.pk == child.parent_id)
            for lv in LEVELS[: level_i + 1]:
                setattr(child, f"{lv}_id", getattr(parent, f"{lv}_id"))
        Region.objects.bulk_update(children, [f"{lv}" for lv in LEVELS[: level_i + 1]], batch_size=1000)
        frontier = children


def _index_changed() -> None:
    from civicgrid.geo.selectors import lookup_index_invalidate

    lookup_index_invalidate()


def regions_import(data: dict[str, Any], *, level: str, actor: Any, commit: bool = False,
                   retire_missing: bool = False, **options: Any) -> ImportReport:
    """Plan, and with ``commit`` apply, an import. A dry run writes nothing at all."""
    report = regions_import_plan(data, level=level, **options)
    if retire_missing and report.missing and report.rejected and not commit:
        report.notes.append("with rejected features, --retire-missing will refuse to retire anything")
    if commit:
        regions_import_apply(report, actor=actor, retire_missing=retire_missing)
    return report


# ---------------------------------------------------------------------------------------------
# cities and subdivision


def city_create(*, code: str, name: str, actor: Any, geometry: BaseGeometry | None = None) -> Region:
    """Create the city (市), the top of the chain. Its shape is optional (the union of districts)."""
    code, name = code.strip(), name.strip()
    if not re.fullmatch(r"[0-9A-Za-z]{2,32}", code):
        raise GeoImportError("a city code is 2–32 letters or digits (e.g. the 6-digit code 440300)")
    if not name:
        raise GeoImportError("a city needs a name")
    problem = region_name_problem(name)
    if problem:
        raise GeoImportError(f"the city's name is refused: {problem}")
    if Region.objects.filter(code=code).exists():
        raise GeoImportError(f"code {code} is already used")
    with transaction.atomic():
        city = Region.objects.create(level=Level.CITY, code=code, name=name)
        city.city = city
        city.save(update_fields=["city"])
        if geometry is not None:
            version = _next_version(level="city", source=f"city {code}", note="city created", actor=actor)
            _boundary(city.pk, geometry, version).save()
        audit_record(actor=actor, action="geo.region.create", target=city, after=snapshot(city))
    return city


def subdivision_features(parents: Iterable[Region], *, target_m2: float, child_level: str) -> dict[str, Any]:
    """A FeatureCollection cutting each parent into pieces of about ``target_m2`` (for demos and
    benchmarks on real shapes): names are 「<parent>第N社区/网格」, each piece names its parent code."""
    suffix = {"street": "街道", "community": "社区", "grid": "网格"}.get(child_level, "片区")
    parents = list(parents)
    shapes = _current_shapes(parents)
    features = []
    for parent in parents:
        geom = shapes.get(parent.pk)
        if geom is None:
            continue
        for n, piece in enumerate(subdivide(geom, target_m2), start=1):
            features.append({"type": "Feature", "geometry": mapping(piece),
                             "properties": {"name": f"{parent.name}第{n}{suffix}", "parent": parent.code}})
    return {"type": "FeatureCollection", "features": features}
