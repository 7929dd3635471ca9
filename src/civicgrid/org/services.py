"""Writes for people and jurisdictions: users, departments, memberships, lifting sign-in cool-downs."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from civicgrid.audit.services import audit_record, changed, snapshot
from civicgrid.geo.models import Region
from civicgrid.geo.validators import region_name_problem
from civicgrid.org.models import ApiToken, Department, Membership, Role, TokenScope, User
from civicgrid.org.permissions import MANAGE
from civicgrid.org.scoping import OutOfScope, ensure_in_scope, forget_memberships, users_scoped
from civicgrid.privacy.validators import clean_id_number, clean_phone


def _ensure_manages_user(actor: Any, user: User) -> None:
    """Only someone who manages every place ``user`` works in may change the account (None = system)."""
    if actor is not None and not users_scoped(User.objects.filter(pk=user.pk), actor, MANAGE).exists():
        raise OutOfScope("user is outside your jurisdiction")


def _ensure_may_grant_to(actor: Any, user: User) -> None:
    """A role goes only to an account the actor manages — or, having no active role yet, one the
    actor created (the admin's "new account" form grants its first role right after creating it)."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    if user.is_superuser:
        raise OutOfScope("only a superuser gives a superuser a role")
    if not Membership.objects.filter(user=user, is_active=True).exists():
        from civicgrid.audit.models import AuditEntry

        if AuditEntry.objects.filter(action="org.user.create", target_type=User._meta.label_lower,
                                     target_id=str(user.pk), actor_id=actor.pk).exists():
            return
    _ensure_manages_user(actor, user)


def _ensure_manages_place(actor: Any, region: Region | None, department: Department | None) -> None:
    """Only someone who manages a region (or department) may give or take a role there (None = system)."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    if region is not None:
        ensure_in_scope(region, actor, MANAGE)
    if department is not None:
        ensure_in_scope(department, actor, MANAGE)
    if region is None and department is None:
        raise OutOfScope("only a superuser gives a role without a place")


def user_unlock(*, actor: Any, user: User) -> None:
    """Lift every address's sign-in cool-down for ``user`` at once (an office behind one address
    whose colleague mistyped); audited as ``org.user.unlock``. Accounts are never locked."""
    from civicgrid.org.signin import signin_unthrottle

    _ensure_manages_user(actor, user)
    signin_unthrottle(user.get_username())
    audit_record(actor=actor, action="org.user.unlock", target=user)


def user_create(*, actor: Any, username: str, password: str | None, display_name: str = "",
                phone: str = "", id_number: str = "", email: str = "", is_staff: bool = True,
                is_superuser: bool = False) -> User:
    """Create a user; the password must pass the strong-password rules (None = unusable password)."""
    user = User(username=username, display_name=display_name, phone=clean_phone(phone),
                id_number=clean_id_number(id_number), email=email,
                is_staff=is_staff, is_superuser=is_superuser)
    user.full_clean(exclude=["password"])
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        user.save()
        audit_record(actor=actor, action="org.user.create", target=user, after=snapshot(user, _USER_FIELDS))
    return user


_USER_FIELDS = ("username", "display_name", "email", "phone", "id_number", "is_staff", "is_superuser", "is_active")


def user_update(*, actor: Any, user: User, **fields: Any) -> User:
    allowed = {"display_name", "phone", "id_number", "email", "is_active", "is_staff"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({k: "cannot be changed here" for k in unknown})
    own_profile = actor is not None and actor.pk == user.pk and not ({"is_active", "is_staff"} & set(fields))
    if not own_profile:
        _ensure_manages_user(actor, user)
    before = snapshot(user, _USER_FIELDS)
    if "phone" in fields:
        fields["phone"] = clean_phone(fields["phone"])
    if "id_number" in fields:
        fields["id_number"] = clean_id_number(fields["id_number"])
    for k, v in fields.items():
        setattr(user, k, v)
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        after = snapshot(user, _USER_FIELDS)
        audit_record(actor=actor, action="org.user.update", target=user, before=before, after=changed(before, after))
    return user


def _department_chain(region: Region) -> dict[str, int | None]:
    return {"city_id": region.city_id, "district_id": region.district_id, "street_id": region.street_id}


def department_create(*, actor: Any, code: str, name: str, region: Region, function: str = "",
                      service_regions: list[Region] | None = None) -> Department:
    """Create a functional department (职能部门) belonging to ``region`` and serving ``service_regions``.

    ``function`` (e.g. ``urban_management``) lets the dispatch catalogue name a kind of department and
    find the local one."""
    dept = Department(code=code.strip(), name=name.strip(), function=function.strip(), region=region,
                      **_department_chain(region))
    dept.full_clean()
    with transaction.atomic():
        dept.save()
        dept.service_regions.set(service_regions or [region])
        ensure_in_scope(dept, actor, MANAGE)
        audit_record(actor=actor, action="org.department.create", target=dept,
                     after={**snapshot(dept), "service_regions": [r.code for r in dept.service_regions.all()]})
    return dept


def department_update(*, actor: Any, department: Department, name: str | None = None,
                      region: Region | None = None, service_regions: list[Region] | None = None,
                      function: str | None = None, is_active: bool | None = None) -> Department:
    """Change a department; the actor must manage it before and after (nobody moves it out of scope)."""
    with transaction.atomic():
        ensure_in_scope(department, actor, MANAGE)
        before = {**snapshot(department), "service_regions": [r.code for r in department.service_regions.all()]}
        if name is not None:
            department.name = name.strip()
        if function is not None:
            department.function = function.strip()
        if is_active is not None:
            department.is_active = is_active
        if region is not None:
            department.region = region
            for k, v in _department_chain(region).items():
                setattr(department, k, v)
        department.full_clean()
        department.save()
        if service_regions is not None:
            department.service_regions.set(service_regions)
        ensure_in_scope(department, actor, MANAGE)
        after = {**snapshot(department), "service_regions": [r.code for r in department.service_regions.all()]}
        audit_record(actor=actor, action="org.department.update", target=department, before=before,
                     after=changed(before, after))
    return department


def membership_grant(*, actor: Any, user: User, role: str, region: Region | None = None,
                     department: Department | None = None) -> Membership:
    """Give ``user`` a role in a region (or, for department handlers, in a department)."""
    if role not in Role.values:
        raise ValidationError({"role": f"unknown role {role!r}"})
    if role == Role.DEPARTMENT_HANDLER and department is None:
        raise ValidationError({"department": "a department handler needs a department"})
    if role != Role.DEPARTMENT_HANDLER and department is not None:
        raise ValidationError({"department": "only department handlers belong to a department"})
    if role not in (Role.DEPARTMENT_HANDLER, Role.RESIDENT) and region is None:
        raise ValidationError({"region": "this role needs a region"})
    _ensure_manages_place(actor, region, department)
    _ensure_may_grant_to(actor, user)
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, role=role, region=region, department=department, defaults={"is_active": True})
        if not created and not membership.is_active:
            membership.is_active = True
            membership.save(update_fields=["is_active"])
        audit_record(actor=actor, action="org.membership.grant", target=membership, after=snapshot(membership))
    forget_memberships(user)
    return membership


def membership_revoke(*, actor: Any, membership: Membership) -> None:
    _ensure_manages_place(actor, membership.region, membership.department)
    with transaction.atomic():
        before = snapshot(membership)
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        audit_record(actor=actor, action="org.membership.revoke", target=membership, before=before,
                     after=snapshot(membership))
    forget_memberships(membership.user)


def region_rename(*, actor: Any, region: Region, name: str) -> Region:
    """Rename a region or grid in the actor's jurisdiction (org scopes geo's regions)."""
    name = name.strip()
    problem = region_name_problem(name)  # names are shown on every map: no markup, no control characters
    if problem:
        raise ValidationError({"name": problem})
    with transaction.atomic():
        ensure_in_scope(region, actor, MANAGE)
        before = snapshot(region, ["name"])
        region.name = name
        region.save(update_fields=["name", "updated_at"])
        audit_record(actor=actor, action="geo.region.rename", target=region, before=before,
                     after=snapshot(region, ["name"]))
    return region


# --- used by the admin (added with the accounts/admin work) -------------------------------------


def user_access_set(*, actor: Any, user: User, is_superuser: bool | None = None,
                    groups: Any = None, user_permissions: Any = None) -> User:
    """Set a user's superuser flag, Django groups and model permissions (superusers only).

    Jurisdiction comes from memberships; these decide which screens and models a staff member may
    open at all (and ``org.reveal_user``, who may see full phone and identity numbers).
    """
    from django.core.exceptions import PermissionDenied  # (imports at the top belong to the lead)

    if getattr(actor, "is_authenticated", False) and not actor.is_superuser:
        raise PermissionDenied("Only a superuser may change access rights.")
    with transaction.atomic():
        before = {"is_superuser": user.is_superuser,
                  "groups": sorted(user.groups.values_list("name", flat=True)),
                  "user_permissions": sorted(f"{a}.{c}" for a, c in user.user_permissions.values_list(
                      "content_type__app_label", "codename"))}
        if is_superuser is not None and is_superuser != user.is_superuser:
            user.is_superuser = is_superuser
            user.save(update_fields=["is_superuser"])
        if groups is not None:
            user.groups.set(groups)
        if user_permissions is not None:
            user.user_permissions.set(user_permissions)
        after = {"is_superuser": user.is_superuser,
                 "groups": sorted(user.groups.values_list("name", flat=True)),
                 "user_permissions": sorted(f"{a}.{c}" for a, c in user.user_permissions.values_list(
                     "content_type__app_label", "codename"))}
        if after != before:
            audit_record(actor=actor, action="org.user.access", target=user, before=before,
                         after=changed(before, after))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


def user_password_set(*, actor: Any, user: User, password: str | None) -> User:
    """Set a new password (checked by the strong-password rules) or, with None, disable password
    sign-in. Audited as ``org.user.password`` (never with the password or its hash)."""
    if actor is None or actor.pk != user.pk:
        _ensure_manages_user(actor, user)
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        audit_record(actor=actor, action="org.user.password", target=user,
                     extra={"usable": password is not None})
    return user


# ---------------------------------------------------------------------------------------------
# API tokens (接口令牌)

TOKEN_PREFIX = "cg_"


def _token_hash(secret: str) -> str:
    """HMAC-SHA256 of the secret exactly as given, under the keyed-hash key (never rotated)."""
    key = ("api-token:" + settings.CIVICGRID_HASH_KEY).encode("utf-8")
    return hmac.new(key, secret.encode("utf-8"), hashlib.sha256).hexdigest()


def token_create(*, actor: Any, user: User, name: str, scopes: list[str],
                 expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Make a token that acts as ``user`` within ``scopes``; returns it and the full token text,
    which is shown this once and never stored."""
    _ensure_manages_user(actor, user)
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "A token needs a name (which system uses it)."
    unknown = sorted(set(scopes) - set(TokenScope.values))
    if not scopes or unknown:
        errors["scopes"] = (f"Unknown scope(s): {', '.join(unknown)}." if unknown else "Give at least one scope.") + (
            f" Scopes: {', '.join(TokenScope.values)}.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if not user.is_active:
        errors["user"] = "The account is not active."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for _attempt in range(5):
            prefix = secrets.token_hex(4)
            if not ApiToken.objects.filter(prefix=prefix).exists():
                break
        secret = secrets.token_urlsafe(24)
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=prefix, secret_hash=_token_hash(secret), scopes=sorted(set(scopes)),
            expires_at=expires_at, created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(actor=actor, action="org.token.create", target=token,
                     after={"user": user.get_username(), "name": token.name, "scopes": token.scopes,
                            "expires_at": expires_at})
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    """Refuse the token from now on (revocation cannot be undone: make a new token)."""
    _ensure_manages_user(actor, token.user)
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="org.token.revoke", target=token, after={"revoked_at": token.revoked_at})
    return token


# Live tokens this process has read: prefix → (read until, monotonic clock; the token with its user).
# Only copies are handed out, so nothing a request caches on its token or user outlives the request.
_live_tokens: dict[str, tuple[float, ApiToken]] = {}


def tokens_forget() -> None:
    """Forget the remembered tokens (a token or a user changed; see ``CIVICGRID_TOKEN_CACHE_SECONDS``)."""
    _live_tokens.clear()


def _token_read(prefix: str, digest: str) -> ApiToken | None:
    hit = _live_tokens.get(prefix)
    if hit is not None and hit[0] > time.monotonic():
        token = hit[1]
    else:
        token = ApiToken.objects.select_related("user", "created_by").filter(prefix=prefix).first()
        if token is None:
            return None
        ttl = settings.CIVICGRID_TOKEN_CACHE_SECONDS
        if ttl and token.revoked_at is None and token.user.is_active:
            _live_tokens[prefix] = (time.monotonic() + ttl, token)
    if not hmac.compare_digest(token.secret_hash, digest):
        return None
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The live token ``raw`` names, or None (unknown, wrong secret, revoked, expired, inactive user).
    Records when it was last used (at most once a minute per token).

    A process remembers a live token for ``CIVICGRID_TOKEN_CACHE_SECONDS`` (intake at hundreds of
    reports a second would otherwise read it on every request); saving a token or a user makes the
    process forget them at once."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, secret = raw[len(TOKEN_PREFIX):].partition("_")
    if not sep or not secret:
        return None
    token = _token_read(prefix, _token_hash(secret))
    if token is None:
        return None
    now = timezone.now()
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    user = copy.copy(token.user)
    token = copy.copy(token)
    token.user = user
    return token


# --- the second factor (TOTP, django-otp; rules in org/second_factor.py) ----------------------------

def totp_enrol_start(*, user: User) -> Any:
    """The person's unconfirmed authenticator (a new secret), made once and shown until confirmed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def totp_enrol_confirm(*, user: User, token: str) -> Any | None:
    """Confirm the unconfirmed authenticator with a code from it; the device (now confirmed) or None
    for a wrong code. One audit row ``org.user.totp_enrolled`` (never the secret)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    token = "".join((token or "").split())
    if device is None or not token.isdigit() or not device.verify_token(token):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()  # one authenticator per person
        audit_record(actor=user, action="org.user.totp_enrolled", target=user, extra={"device": device.pk})
    return device


def totp_verify(*, user: User, token: str) -> Any | None:
    """The confirmed authenticator that accepts ``token`` (a code not used before), or None."""
    from django_otp import match_token

    token = "".join((token or "").split())
    if not token.isdigit():
        return None
    return match_token(user, token)


def totp_reset(*, actor: Any, user: User) -> int:
    """Remove a person's authenticators (a lost phone): they enrol again at their next sign-in if the
    second factor is required of them. Only for one who manages the account; audited."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _ensure_manages_user(actor, user)
    with transaction.atomic():
        count, _ = TOTPDevice.objects.filter(user=user).delete()
        audit_record(actor=actor, action="org.user.totp_reset", target=user, extra={"devices": count})
    return count
