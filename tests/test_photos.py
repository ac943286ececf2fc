"""Report photos: told by content, size- and count-limited, re-encoded and stored by hash."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from hotspot import photos
from hotspot.photos import (
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    PhotoRejected,
    check_photo,
    photo_dir,
    photo_path,
    prepare_photo,
    prepare_photos,
    sanitise_name,
    save_photo,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(fmt: str, size=(40, 30), colour=(200, 30, 30), mode="RGB", **options) -> bytes:
    """A small real image made with Pillow."""
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_with_gps(size=(40, 20), orientation: int | None = None) -> bytes:
    """A JPEG whose EXIF holds a GPS position (and optionally an orientation)."""
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 47.0, 6.0), 3: "E", 4: (116.0, 18.0, 18.0)})
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return image_bytes("JPEG", size=size, exif=exif.tobytes())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_real_png_jpeg_and_webp_images_are_accepted(fmt):
    assert check_photo(f"photo.{fmt.lower()}", image_bytes(fmt)) is None


def test_a_text_file_named_jpg_is_refused_as_not_an_image():
    assert check_photo("photo.jpg", "这不是图片 not an image\n".encode()) == "not an image"


def test_an_empty_file_is_refused():
    assert check_photo("photo.png", b"") == "empty file"


def test_a_gif_is_refused_naming_its_format_even_when_named_png():
    reason = check_photo("photo.png", image_bytes("GIF", mode="P", colour=1))
    assert reason == "not a JPEG, PNG or WebP image (GIF image)"


def test_an_image_over_5_mb_is_refused_with_its_size():
    noise = np.random.default_rng(0).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, format="PNG", compress_level=0)
    data = out.getvalue()
    assert len(data) > MAX_PHOTO_BYTES
    reason = check_photo("big.png", data)
    assert reason is not None
    assert reason.startswith("larger than 5 MB (") and reason.endswith(" MB)")


def test_a_truncated_image_is_refused_as_damaged():
    data = image_bytes("PNG", size=(200, 200), colour=(1, 2, 3))
    reason = check_photo("cut.png", data[: len(data) // 2])
    assert reason is not None and reason.startswith("damaged image")


def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded():
    data = image_bytes("PNG", size=(10_000, 6_000), mode="1", colour=0)
    assert len(data) < MAX_PHOTO_BYTES  # small on disk, huge in memory
    assert check_photo("bomb.png", data).startswith("too many pixels")


def test_the_content_decides_the_stored_ending_not_the_name():
    photo = prepare_photo("holiday.jpg", image_bytes("PNG"))
    assert photo.ext == "png"
    assert photo.name == "holiday.jpg"
    assert Image.open(io.BytesIO(photo.data)).format == "PNG"


def test_reencoding_drops_the_gps_position_and_applies_the_orientation():
    original = Image.open(io.BytesIO(jpeg_with_gps(orientation=6)))
    assert original.getexif().get_ifd(GPS_IFD)  # the upload has a position
    photo = prepare_photo("IMG_0001.JPG", jpeg_with_gps(orientation=6))
    stored = Image.open(io.BytesIO(photo.data))
    assert stored.format == "JPEG"
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert ORIENTATION not in stored.getexif()
    assert stored.size == (20, 40)  # rotated upright: 40×20 with orientation 6
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()


def test_a_palette_png_with_transparency_keeps_its_transparency():
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    out = io.BytesIO()
    palette.save(out, format="PNG", transparency=1)
    assert Image.open(out).convert("RGBA").getpixel((0, 0)) == (255, 0, 0, 0)
    stored = Image.open(io.BytesIO(prepare_photo("p.png", out.getvalue()).data))
    assert stored.convert("RGBA").getpixel((0, 0)) == (255, 0, 0, 0)


def test_a_transparent_webp_stays_transparent():
    data = image_bytes("WEBP", mode="RGBA", colour=(0, 128, 0, 0), lossless=True)
    stored = Image.open(io.BytesIO(prepare_photo("t.webp", data).data))
    assert stored.format == "WEBP"
    assert stored.convert("RGBA").getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.jpg", "win.ini.jpg"),
        ("/abs/path/照片 1.jpg", "照片 1.jpg"),
        ("bad\x00name\x1b.png", "badname.png"),
        (".hidden.png", "hidden.png"),
        ("../", "photo"),
        ("", "photo"),
    ],
)
def test_uploaded_names_are_sanitised_to_a_bare_file_name(name, safe):
    assert sanitise_name(name) == safe


def test_a_long_name_is_cut_to_100_characters_keeping_its_ending():
    safe = sanitise_name("长" * 300 + ".jpeg")
    assert len(safe) == 100
    assert safe.endswith(".jpeg")


def test_a_seventh_photo_is_refused_and_nothing_is_prepared():
    files = [(f"{i}.png", image_bytes("PNG")) for i in range(MAX_PHOTOS + 1)]
    with pytest.raises(PhotoRejected) as refused:
        prepare_photos(files)
    assert refused.value.reasons == [("6.png", "more than 6 photos")]
    assert len(prepare_photos(files[:MAX_PHOTOS])) == MAX_PHOTOS


def test_every_refused_photo_is_named_with_its_reason():
    files = [
        ("ok.png", image_bytes("PNG")),
        ("../notes.jpg", b"plain text"),
        ("empty.webp", b""),
    ]
    with pytest.raises(PhotoRejected) as refused:
        prepare_photos(files)
    assert refused.value.reasons == [("notes.jpg", "not an image"), ("empty.webp", "empty file")]
    assert "notes.jpg: not an image" in str(refused.value)


def test_a_photo_is_saved_under_its_hash_inside_the_folder(tmp_path):
    photo = prepare_photo("../../etc/passwd.png", image_bytes("PNG"))
    path = save_photo(photo, tmp_path)
    assert path == tmp_path / f"{photo.sha256}.png"
    assert path.read_bytes() == photo.data
    assert hashlib.sha256(path.read_bytes()).hexdigest() == photo.sha256
    assert save_photo(photo, tmp_path) == path  # the same photo again: one file
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize(
    ("sha256", "ext"),
    [("../../etc/passwd", "png"), ("a" * 64, "png/../../x"), ("A" * 64, "png"), ("a" * 64, "exe")],
)
def test_photo_paths_are_built_from_a_hash_and_a_known_ending_only(tmp_path, sha256, ext):
    with pytest.raises(ValueError, match="not a stored photo"):
        photo_path(sha256, ext, tmp_path)


def test_the_photo_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(photos.ENV_PHOTO_DIR, str(tmp_path / "elsewhere"))
    assert photo_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(photos.ENV_PHOTO_DIR)
    assert photo_dir().parts[-2:] == ("data", "photos")
