"""Report photos: images only (told by content), size-limited, re-encoded and stored by hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Connection, Engine, false, insert, select

from hotspot.config import DATA_DIR
from hotspot.errors import UserError
from hotspot.filters import EVERYTHING, Scope
from hotspot.store import schema
from hotspot.store.frames import scope_conditions

__all__ = [
    "ENV_PHOTO_DIR",
    "MAX_PHOTOS",
    "MAX_PHOTO_BYTES",
    "MAX_PIXELS",
    "PHOTO_TYPES",
    "Photo",
    "PhotoRejected",
    "attach_photos",
    "check_photo",
    "photo_dir",
    "photo_path",
    "prepare_photo",
    "prepare_photos",
    "read_photos",
    "sanitise_name",
    "save_photo",
]

#: At most this many bytes per uploaded photo (5 MB).
MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: At most this many photos per report.
MAX_PHOTOS = 6
#: At most this many pixels per photo (a 5 MB file can unpack to gigabytes).
MAX_PIXELS = 50_000_000
#: File name endings offered by the upload widget; the content decides, not the name.
PHOTO_TYPES = ("jpg", "jpeg", "png", "webp")
#: The folder photos are kept in, when set; else ``data/photos``.
ENV_PHOTO_DIR = "HOTSPOT_PHOTO_DIR"
# Image formats accepted (Pillow's name -> the stored file's ending) and how each is saved.
_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_SAVE_OPTIONS = {
    "JPEG": {"quality": 90},
    "PNG": {"optimize": False},
    "WEBP": {"quality": 90},
}
# The modes each format can be written in; others are converted first.
_MODES = {
    "JPEG": ("L", "RGB", "CMYK"),
    "PNG": ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"),
    "WEBP": ("RGB", "RGBA"),
}
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_NAME_LIMIT = schema.report_photo.c.original_name.type.length
# Characters never kept in a displayed file name: controls, path and shell specials.
_UNSAFE_RE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


class PhotoRejected(UserError):
    """One or more photos were refused; nothing was stored.

    Attributes
    ----------
    reasons : list of tuple
        (file name, reason) for each refused photo.
    """

    def __init__(self, reasons: Sequence[tuple[str, str]]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in self.reasons))


@dataclass(frozen=True)
class Photo:
    """A checked photo, re-encoded without its metadata, ready to store.

    Attributes
    ----------
    name : str
        The uploaded file name, sanitised (for display only; never a path).
    ext : str
        ``jpg``, ``png`` or ``webp``: the format of the content.
    data : bytes
        The re-encoded image.
    sha256 : str
        Hex digest of ``data``: the stored file is ``<sha256>.<ext>``.
    """

    name: str
    ext: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        """Bytes stored."""
        return len(self.data)


def photo_dir() -> Path:
    """The folder photos are stored in: ``HOTSPOT_PHOTO_DIR``, else ``data/photos``."""
    configured = os.environ.get(ENV_PHOTO_DIR)
    return Path(configured).expanduser() if configured else DATA_DIR / "photos"


def sanitise_name(name: str) -> str:
    """An uploaded file name made safe to show and store: no folders, no control characters.

    Parameters
    ----------
    name : str
        As the browser sent it, e.g. ``../../etc/passwd.png``.

    Returns
    -------
    str
        The last path part, without unsafe characters or leading dots, at most 100
        characters (``photo`` when nothing is left), e.g. ``passwd.png``.
    """
    text = unicodedata.normalize("NFC", str(name))
    text = re.split(r"[/\\]", text)[-1]
    text = _UNSAFE_RE.sub("", text).strip().lstrip(".").strip()
    if len(text) > _NAME_LIMIT:
        _, dot, ext = text.rpartition(".")
        keep = ext if dot and len(ext) <= 8 else ""
        text = text[: _NAME_LIMIT - len(keep) - 1] + "." + keep if keep else text[:_NAME_LIMIT]
    return text or "photo"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _open(data: bytes) -> tuple[Image.Image | None, str | None]:
    """Decode an upload fully; return the image, or None and the reason it is refused."""
    if not data:
        return None, "empty file"
    if len(data) > MAX_PHOTO_BYTES:
        limit = MAX_PHOTO_BYTES // (1024 * 1024)
        return None, f"larger than {limit} MB ({_megabytes(len(data))})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            kind = probe.format
            if kind not in _FORMATS:
                return None, f"not a JPEG, PNG or WebP image ({kind or 'unknown'} image)"
            if probe.width * probe.height > MAX_PIXELS:
                return None, f"too many pixels ({probe.width}×{probe.height})"
            probe.verify()  # checksums and structure; the image cannot be used afterwards
            image = Image.open(io.BytesIO(data))
            image.load()  # every pixel decoded: a truncated file fails here
    except UnidentifiedImageError:
        return None, "not an image"
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return None, "too many pixels"
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return None, f"damaged image ({exc})"
    return image, None


def check_photo(name: str, data: bytes) -> str | None:
    """Why an uploaded file would be refused as a photo, or None when it is accepted.

    The content decides, not the name: it must decode completely as JPEG, PNG or WebP,
    be at most :data:`MAX_PHOTO_BYTES` bytes and :data:`MAX_PIXELS` pixels.

    Parameters
    ----------
    name : str
        The uploaded file name (not used to decide).
    data : bytes
        The file's content.

    Returns
    -------
    str or None
        The reason, e.g. ``not an image`` or ``larger than 5 MB (6.2 MB)``.
    """
    image, reason = _open(data)
    if image is not None:
        image.close()
    return reason


def prepare_photo(name: str, data: bytes) -> Photo:
    """Check an upload and re-encode it without metadata (EXIF, GPS, XMP, comments).

    The EXIF orientation is applied to the pixels first, so the photo still shows
    upright; the ICC colour profile is kept. Animated images keep their first frame.

    Parameters
    ----------
    name : str
        The uploaded file name.
    data : bytes

    Returns
    -------
    Photo

    Raises
    ------
    PhotoRejected
        With the reason of :func:`check_photo`.
    """
    clean_name = sanitise_name(name)
    image, reason = _open(data)
    if image is None:
        raise PhotoRejected([(clean_name, str(reason))])
    with image:
        kind = str(image.format)
        icc_profile = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
        if upright.mode not in _MODES[kind]:
            has_alpha = "A" in upright.getbands() or "transparency" in upright.info
            upright = upright.convert("RGBA" if has_alpha and kind != "JPEG" else "RGB")
        options = dict(_SAVE_OPTIONS[kind])
        if icc_profile:
            options["icc_profile"] = icc_profile
        if "transparency" in upright.info and kind == "PNG":
            options["transparency"] = upright.info["transparency"]
        out = io.BytesIO()
        upright.save(out, format=kind, **options)
    encoded = out.getvalue()
    return Photo(
        name=clean_name,
        ext=_FORMATS[kind],
        data=encoded,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )


def prepare_photos(files: Iterable[tuple[str, bytes]]) -> list[Photo]:
    """Check and re-encode the photos of one report, all or none.

    Parameters
    ----------
    files : iterable of (name, bytes)

    Returns
    -------
    list of Photo

    Raises
    ------
    PhotoRejected
        More than :data:`MAX_PHOTOS` photos, or any photo refused (every reason listed).
    """
    files = list(files)
    if len(files) > MAX_PHOTOS:
        extra = [(sanitise_name(name), f"more than {MAX_PHOTOS} photos") for name, _ in files]
        raise PhotoRejected(extra[MAX_PHOTOS:])
    photos, reasons = [], []
    for name, data in files:
        try:
            photos.append(prepare_photo(name, data))
        except PhotoRejected as exc:
            reasons += exc.reasons
    if reasons:
        raise PhotoRejected(reasons)
    return photos


def photo_path(sha256: str, ext: str, directory: Path | None = None) -> Path:
    """Where the photo with this hash and ending is stored.

    Parameters
    ----------
    sha256 : str
        64 lowercase hex digits.
    ext : str
        ``jpg``, ``png`` or ``webp``.
    directory : pathlib.Path, optional
        The photo folder; :func:`photo_dir` when omitted.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        Anything else as hash or ending: a path is never built from other text.
    """
    if not _SHA256_RE.fullmatch(sha256 or "") or ext not in _FORMATS.values():
        raise ValueError(f"not a stored photo: {sha256!r}.{ext!r}")
    return (directory or photo_dir()) / f"{sha256}.{ext}"


def save_photo(photo: Photo, directory: Path | None = None) -> Path:
    """Write a photo to the photo folder (once: the name is its content's hash).

    Parameters
    ----------
    photo : Photo
    directory : pathlib.Path, optional
        The photo folder; :func:`photo_dir` when omitted. Created if missing.

    Returns
    -------
    pathlib.Path
        The stored file.
    """
    path = photo_path(photo.sha256, photo.ext, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size == photo.size:
        return path
    # Write a temporary file beside it and rename: a reader never sees half a photo.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(photo.data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def attach_photos(
    conn: Connection,
    report_id: int,
    photos: Sequence[Photo],
    *,
    directory: Path | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Store the photos' files and link them to a report, inside the caller's transaction.

    Files are written first; should the transaction then roll back, a file is left
    without a row, never a row without its file.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection inside a transaction.
    report_id : int
    photos : sequence of Photo
        From :func:`prepare_photos`.
    directory : pathlib.Path, optional
        The photo folder; :func:`photo_dir` when omitted.
    now : datetime.datetime, optional
        The rows' ``created_at``.

    Returns
    -------
    int
        Photos linked.
    """
    if not photos:
        return 0
    created = (now or dt.datetime.now()).replace(microsecond=0)
    for photo in photos:
        save_photo(photo, directory)
    conn.execute(
        insert(schema.report_photo),
        [
            {
                "report_id": report_id,
                "sha256": photo.sha256,
                "ext": photo.ext,
                "bytes": photo.size,
                "original_name": photo.name,
                "created_at": created,
            }
            for photo in photos
        ],
    )
    return len(photos)


def read_photos(
    engine: Engine, report_id: int | None = None, *, scope: Scope = EVERYTHING
) -> pd.DataFrame:
    """The photo rows of one report (or of all), in the order they were attached.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    report_id : int, optional
    scope : Scope, optional
        Whose view: only the photos of the reports in it, and none when it may not
        open photos.

    Returns
    -------
    pandas.DataFrame
        The ``report_photo`` columns.
    """
    table, report = schema.report_photo, schema.report
    statement = select(table).order_by(table.c.report_id, table.c.id)
    if report_id is not None:
        statement = statement.where(table.c.report_id == report_id)
    if not scope.photos:
        statement = statement.where(false())
    elif not scope.whole_town:
        statement = statement.select_from(table.join(report, table.c.report_id == report.c.id))
        statement = statement.where(*scope_conditions(scope, report.c.community_id, report.c.cell))
    with engine.connect() as conn:
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
