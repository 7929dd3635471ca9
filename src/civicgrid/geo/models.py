"""Regions, grids and their versioned boundaries (行政区划、网格、边界版本)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.validators import validate_region_name


class Level(models.TextChoices):
    """The five levels of the hierarchy, top down (市 → 区/县 → 街道/乡镇 → 社区/村 → 网格)."""

    CITY = "city", _("city")
    DISTRICT = "district", _("district")
    STREET = "street", _("street")
    COMMUNITY = "community", _("community")
    GRID = "grid", _("grid")


LEVELS: tuple[str, ...] = tuple(Level.values)
CHAIN_LEVELS: tuple[str, ...] = LEVELS  # every level has a chain column on Region


def parent_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i - 1] if i > 0 else None


def child_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


class BoundaryVersion(models.Model):
    """One generation of boundaries (边界版本): every committed import that changes a shape opens one.

    A boundary is valid from the version that created it until the version that replaced it, so a
    case keeps pointing at the shape it was assigned under after the map changes (as in MapIt).
    """

    number = models.PositiveIntegerField(_("number"), unique=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("boundary version")
        verbose_name_plural = _("boundary versions")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number} {self.source}".strip()


class Region(models.Model):
    """An administrative area or a grid (区域/网格): city, district, street, community or grid.

    ``city``…``grid`` hold the region chain (the region itself at its own level), so any record
    that copies the chain can be scoped by jurisdiction with one indexed comparison.
    """

    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, validators=[validate_region_name])
    parent = models.ForeignKey("self", verbose_name=_("parent"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    source_id = models.CharField(_("id in source file"), max_length=64, blank=True,
                                 help_text=_("The feature id of the imported file, used to match re-imports."))
    dedicated = models.BooleanField(_("dedicated grid"), default=False,
                                    help_text=_("A grid for one large unit (专属网格): hospital, school, park."))
    is_active = models.BooleanField(_("active"), default=True)
    city = models.ForeignKey("self", verbose_name=_("city"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("self", verbose_name=_("district"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey("self", verbose_name=_("street"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("self", verbose_name=_("community"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("self", verbose_name=_("grid"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Jurisdiction declaration read by org's scoping queryset (geo does not import org).
    # VIEW also reaches the region's ancestors (a street dispatcher sees its district and city).
    scope = {"regions": {lv: lv for lv in CHAIN_LEVELS}, "up": "id"}

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "source_id"], name="geo_region_level_src_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def chain(self) -> dict[str, int | None]:
        """The ids of the region chain, level → id, for copying onto scoped records."""
        return {lv: getattr(self, f"{lv}_id") for lv in CHAIN_LEVELS}


class Boundary(models.Model):
    """The polygon of a region during a span of boundary versions (边界), stored in WGS-84.

    ``valid_to`` is the version that replaced it (exclusive); the current shape has none.
    """

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.CASCADE,
                               related_name="boundaries")
    valid_from = models.ForeignKey(BoundaryVersion, verbose_name=_("valid from"), on_delete=models.PROTECT,
                                   related_name="+")
    valid_to = models.ForeignKey(BoundaryVersion, verbose_name=_("valid until"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    geom_wkb = models.BinaryField(_("geometry (WKB)"))
    min_x = models.FloatField()
    min_y = models.FloatField()
    max_x = models.FloatField()
    max_y = models.FloatField()
    area_m2 = models.FloatField(_("area (m²)"))

    class Meta:
        verbose_name = _("boundary")
        verbose_name_plural = _("boundaries")
        constraints = [
            models.UniqueConstraint(fields=["region"], condition=models.Q(valid_to__isnull=True),
                                    name="geo_one_current_boundary"),
        ]
        indexes = [models.Index(fields=["valid_to", "region"], name="geo_boundary_current_idx")]

    def __str__(self) -> str:
        return f"{self.region} v{self.valid_from_id}"
