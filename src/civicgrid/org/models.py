"""People and jurisdictions: departments, users and their memberships (组织、用户、岗位)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.models import Region
from civicgrid.privacy.fields import EncryptedTextField, KeyedHashField
from civicgrid.privacy.validators import validate_id_number, validate_phone


class Role(models.TextChoices):
    """What a person does on the platform; each membership grants one role in one place."""

    RESIDENT = "resident", _("resident")
    GRID_WORKER = "grid_worker", _("grid worker")
    DISPATCHER = "dispatcher", _("centre dispatcher")
    DEPARTMENT_HANDLER = "department_handler", _("department handler")
    MEDIATOR = "mediator", _("mediator")
    LEADER = "leader", _("leader")
    AUDITOR = "auditor", _("auditor")
    ADMIN = "admin", _("administrator")


class User(AbstractUser):
    """A person who signs in (用户): staff of a centre or department, a grid worker, or a resident.

    Phone and identity number are encrypted at rest, searchable only through keyed hashes, masked
    on screen, and revealed only through the audited privacy service.
    """

    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, hash_field="phone_hash", validators=[validate_phone],
                               mask="phone")
    phone_hash = KeyedHashField(_("phone (keyed hash)"))
    id_number = EncryptedTextField(_("identity number"), blank=True, hash_field="id_number_hash",
                                   validators=[validate_id_number], mask="id_number")
    id_number_hash = KeyedHashField(_("identity number (keyed hash)"))

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("reveal_user", _("Can reveal a user's phone and identity number")),
                       ("export_personal", _("Can export personal data"))]

    def __str__(self) -> str:
        return self.display_name or self.get_username()


class Department(models.Model):
    """A functional department (职能部门) that handles cases for the regions it serves.

    ``region`` is the level of government it belongs to (a district's housing bureau belongs to
    the district); ``service_regions`` are the areas it is responsible for.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    function = models.CharField(_("function"), max_length=40, blank=True, db_index=True,
                                help_text=_("What kind of department it is (e.g. urban_management), so the "
                                            "dispatch catalogue can name a function and find the local unit."))
    region = models.ForeignKey(Region, verbose_name=_("belongs to"), on_delete=models.PROTECT,
                               related_name="departments")
    service_regions = models.ManyToManyField(Region, verbose_name=_("serves"), blank=True,
                                             related_name="served_by")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    city = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    # Reach: the chain of the region it belongs to; VIEW also reaches up the chain, so a community
    # dispatcher sees the street's and district's departments it dispatches to.
    scope = {"regions": {"city": "city", "district": "district", "street": "street"},
             "departments": ("id",), "up": "region"}

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A role held by a user in a region or a department (岗位): the source of every permission."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="memberships")
    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="memberships")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role="department_handler", department__isnull=False)
                           | (~models.Q(role="department_handler") & models.Q(department__isnull=True))),
                name="org_membership_department_only_for_handlers",
            ),
            models.CheckConstraint(
                condition=(models.Q(role__in=["department_handler", "resident"]) | models.Q(region__isnull=False)),
                name="org_membership_region_required",
            ),
            models.UniqueConstraint(fields=["user", "role", "region", "department"], name="org_membership_unique"),
        ]

    def __str__(self) -> str:
        where = self.department or self.region or "-"
        return f"{self.user} · {self.get_role_display()} · {where}"


class TokenScope(models.TextChoices):
    """What a system may do with an API token (接口令牌权限)."""

    READ = "read", _("read cases and reference data")
    WRITE = "write", _("act on cases (transitions)")
    INTAKE = "intake", _("report new cases (intake, Open311 POST, sensor alerts)")


class ApiToken(models.Model):
    """A token another system uses to call the API (接口令牌). It acts as its user — the same
    jurisdiction and roles — limited to its scopes. Only a keyed hash of the secret is stored; the
    secret is shown once, when the token is made. Revoked or expired tokens are refused."""

    user = models.ForeignKey(User, verbose_name=_("acts as"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)  # shown, and used to find the token
    secret_hash = models.CharField(_("secret (keyed hash)"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   db_index=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
