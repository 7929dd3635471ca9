"""Photos of events (随手拍): checked, stripped of their EXIF metadata, stored on disk.

Storage is deliberately simple: the cleaned image is written to
``<CIVICGRID_MEDIA_ROOT>/events/<yyyy>/<mm>/<sha256>.<ext>`` (default media root: ``<data dir>/media``)
and the event keeps its metadata (path relative to the media root, type, size, pixel size, SHA-256,
GPS point if the original carried one and the reporter confirmed its use; intake blanks it
otherwise). Files are content-addressed, so the same photo sent twice is
stored once. A photo is written before the database transaction commits: if that transaction
fails, the file stays behind unreferenced (harmless; a clean-up can list files no event names).
Each file is written under a temporary name and renamed when complete, so a full disk never
leaves a partial photo: the temporary file is removed and :class:`~civicgrid.core.errors.StorageFull`
tells the reporter that nothing was saved (no event is created; the report may be sent again).

Checks: at most ``CIVICGRID_EVENT_PHOTO_MAX_COUNT`` photos (default 9) of at most
``CIVICGRID_EVENT_PHOTO_MAX_BYTES`` (default 10 MB) each, JPEG, PNG or WebP by content (not by
name). The image is re-encoded from its pixels (after applying the EXIF orientation), so no EXIF,
GPS, maker notes or text chunks survive.

Decompression bombs (a small file that claims huge dimensions): the pixel size is read from the
file's header before anything is decoded, and a photo over ``CIVICGRID_EVENT_PHOTO_MAX_PIXELS``
(default 40 megapixels) is refused at once. PNG and WebP cannot be decoded at a reduced scale, so
they have a lower cap, ``CIVICGRID_EVENT_PHOTO_MAX_PIXELS_LOSSLESS`` (default 12 megapixels: a
phone's camera writes JPEG; a lossless image that large is a drawing, a scan or a bomb). JPEG is
decoded in draft mode straight at about the stored size, and every photo is stored at most
``CIVICGRID_EVENT_PHOTO_MAX_SIDE`` pixels on its long side (default 2560), so memory and CPU per
photo stay bounded. Pillow's own guard (``Image.MAX_IMAGE_PIXELS``) is set to the same limit.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from civicgrid.core.errors import StorageFull
from civicgrid.core.files import write_whole

log = logging.getLogger("civicgrid.events.photos")

FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
LOSSY = {"JPEG"}
_GPS_IFD = 0x8825


@dataclass(frozen=True)
class PhotoUpload:
    """A photo as received: its file name (for the record only) and its bytes."""

    name: str
    content: bytes


class PhotoInvalid(ValueError):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def max_bytes() -> int:
    return int(getattr(settings, "CIVICGRID_EVENT_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def max_count() -> int:
    return int(getattr(settings, "CIVICGRID_EVENT_PHOTO_MAX_COUNT", 9))


def max_pixels(fmt: str) -> int:
    limit = int(getattr(settings, "CIVICGRID_EVENT_PHOTO_MAX_PIXELS", 40_000_000))
    if fmt not in LOSSY:
        limit = min(limit, int(getattr(settings, "CIVICGRID_EVENT_PHOTO_MAX_PIXELS_LOSSLESS", 12_000_000)))
    return limit


def max_side() -> int:
    return int(getattr(settings, "CIVICGRID_EVENT_PHOTO_MAX_SIDE", 2560))


def media_root() -> Path:
    root = getattr(settings, "CIVICGRID_MEDIA_ROOT", None)
    return Path(root) if root else Path(settings.DATA_DIR) / "media"


def _rational(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ZeroDivisionError):
        num, den = value
        return float(num) / float(den)


def _dms(values: Any, ref: str) -> float | None:
    try:
        d, m, s = (_rational(v) for v in values)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60 + s / 3600
    return -deg if ref in ("S", "W") else deg


def exif_gps(image: Image.Image) -> tuple[float, float] | None:
    """The (lon, lat) an image's EXIF GPS tags give (WGS-84, as phones record it), if any."""
    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _dms(gps[2], str(gps.get(1, "N")).strip("\x00"))
    lon = _dms(gps[4], str(gps.get(3, "E")).strip("\x00"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return round(lon, 7), round(lat, 7)


def photo_clean(upload: PhotoUpload, index: int = 0) -> tuple[bytes, dict[str, Any]]:
    """Check one photo and re-encode it without metadata: (clean bytes, metadata without path)."""
    size = len(upload.content)
    if size == 0:
        raise PhotoInvalid(_("Photo %(n)d is empty.") % {"n": index + 1}, index)
    if size > max_bytes():
        raise PhotoInvalid(_("Photo %(n)d is larger than %(mb).0f MB.") % {"n": index + 1, "mb": max_bytes() / 2**20},
                           index)
    too_many = _("Photo %(n)d has too many pixels (at most %(mp).0f megapixels).")
    try:
        try:
            image = Image.open(io.BytesIO(upload.content))  # reads the header only: nothing decoded yet
        except Image.DecompressionBombError:  # Pillow's own header check, beyond twice the limit
            raise PhotoInvalid(too_many % {"n": index + 1, "mp": Image.MAX_IMAGE_PIXELS / 1e6}, index) from None
        fmt = image.format
        if fmt not in FORMATS:
            raise PhotoInvalid(_("Photo %(n)d is not a JPEG, PNG or WebP image.") % {"n": index + 1}, index)
        if image.width * image.height > max_pixels(fmt):
            raise PhotoInvalid(too_many % {"n": index + 1, "mp": max_pixels(fmt) / 1e6}, index)
        gps = exif_gps(image)
        side = max_side()
        if fmt == "JPEG":
            image.draft("RGB" if image.mode not in ("L", "RGB") else image.mode, (side, side))
        image.load()
        clean = ImageOps.exif_transpose(image)
        if max(clean.size) > side:
            clean.thumbnail((side, side), Image.Resampling.LANCZOS)
    except PhotoInvalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise PhotoInvalid(_("Photo %(n)d is not a readable image.") % {"n": index + 1}, index) from None
    out = io.BytesIO()
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        clean.save(out, format="JPEG", quality=90)
    else:
        clean.save(out, format=fmt)  # no exif=, no pnginfo=: nothing but pixels is written
    data = out.getvalue()
    ext, mime = FORMATS[fmt]
    meta = {"name": Path(upload.name or f"photo.{ext}").name[:100], "type": mime, "size": len(data),
            "width": clean.width, "height": clean.height, "sha256": hashlib.sha256(data).hexdigest(),
            "gps": list(gps) if gps else None, "ext": ext}
    return data, meta


def photos_check(uploads: list[PhotoUpload] | tuple[PhotoUpload, ...]) -> list[tuple[bytes, dict[str, Any]]]:
    if len(uploads) > max_count():
        raise PhotoInvalid(_("At most %(n)d photos.") % {"n": max_count()}, max_count())
    return [photo_clean(u, i) for i, u in enumerate(uploads)]


def photos_store(cleaned: list[tuple[bytes, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Write cleaned photos under the media root; return their metadata with ``path``. A write the
    disk refuses (full, read-only) raises :class:`StorageFull` and leaves no partial file."""
    now = timezone.localtime()
    stored = []
    for data, meta in cleaned:
        meta = dict(meta)
        ext = meta.pop("ext")
        rel = Path("events") / f"{now:%Y}" / f"{now:%m}" / f"{meta['sha256']}.{ext}"
        path = media_root() / rel
        if not path.exists():
            try:
                write_whole(path, data)
            except OSError as exc:
                # The operator needs the cause (errno, directory); the reporter a plain message.
                log.error("a photo could not be stored under %s: %s", media_root(), exc.strerror or exc)
                raise StorageFull(_("The photos could not be stored: the server's storage is full or unavailable. "
                                    "Nothing was saved; please send the report again later."),
                                  field="photos") from exc
        stored.append({"path": rel.as_posix(), **meta})
    return stored
