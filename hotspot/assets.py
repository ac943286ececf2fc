"""Front-end assets the map needs, copied from installed packages into Streamlit's static folder.

The dashboard must work with no internet, so nothing may load from a CDN.
Leaflet comes from the ``django-js-lib-leaflet`` wheel (a plain copy of the
Leaflet release, no Django needed at run time) and is served by Streamlit
itself: with ``server.enableStaticServing`` the files under ``static/`` beside
``app.py`` are served at ``/app/static/``. The copy happens at app start and is
a no-op when the files are already there; ``static/vendor/`` is gitignored, so
third-party code is never committed.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import shutil
import tempfile
from pathlib import Path

from hotspot.config import PROJECT_ROOT

__all__ = [
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "LEAFLET_URL",
    "STATIC_DIR",
    "install_assets",
    "leaflet_source_dir",
]

log = logging.getLogger(__name__)

#: Streamlit's app static folder (``server.enableStaticServing``): beside ``app.py``.
STATIC_DIR = PROJECT_ROOT / "static"
#: Where the vendored Leaflet files go, relative to :data:`STATIC_DIR`.
LEAFLET_SUBDIR = Path("vendor") / "leaflet"
#: The URL path Streamlit serves :data:`STATIC_DIR` under.
STATIC_URL = "/app/static"
#: URL of the Leaflet folder as the browser sees it.
LEAFLET_URL = f"{STATIC_URL}/{LEAFLET_SUBDIR.as_posix()}"
LEAFLET_JS_URL = f"{LEAFLET_URL}/leaflet.js"
LEAFLET_CSS_URL = f"{LEAFLET_URL}/leaflet.css"

# The package and the folder inside it that holds the Leaflet distribution.
_LEAFLET_PACKAGE = "js_lib_leaflet"
_LEAFLET_PACKAGE_DIR = ("static", "js_lib_leaflet")
# What the map uses: the script, the stylesheet and the images the stylesheet
# refers to (layer-control icon, default marker) by relative URL.
_LEAFLET_FILES = (
    "leaflet.js",
    "leaflet.css",
    "images/layers.png",
    "images/layers-2x.png",
    "images/marker-icon.png",
    "images/marker-icon-2x.png",
    "images/marker-shadow.png",
)


def leaflet_source_dir() -> Path:
    """The folder of the installed Leaflet distribution.

    Returns
    -------
    pathlib.Path
        The folder holding ``leaflet.js``, ``leaflet.css`` and ``images/``.

    Raises
    ------
    ModuleNotFoundError
        If ``django-js-lib-leaflet`` is not installed.
    """
    try:
        root = importlib.resources.files(_LEAFLET_PACKAGE)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "the map needs Leaflet from the package django-js-lib-leaflet: "
            "pip install django-js-lib-leaflet"
        ) from error
    return Path(str(root.joinpath(*_LEAFLET_PACKAGE_DIR)))


def _same_file(source: Path, target: Path) -> bool:
    if not target.is_file():
        return False
    return target.stat().st_size == source.stat().st_size


def _copy_atomically(source: Path, target: Path) -> None:
    # Several Streamlit sessions (or servers) may start at once: write a
    # temporary file and rename it, so nobody ever serves half a file.
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def install_assets(static_dir: Path | str = STATIC_DIR) -> Path:
    """Copy Leaflet into ``static_dir/vendor/leaflet`` unless it is already there.

    Parameters
    ----------
    static_dir : pathlib.Path or str, default :data:`STATIC_DIR`
        Streamlit's app static folder.

    Returns
    -------
    pathlib.Path
        The folder the Leaflet files are in.
    """
    source_dir = leaflet_source_dir()
    target_dir = Path(static_dir) / LEAFLET_SUBDIR
    copied = 0
    for name in _LEAFLET_FILES:
        source, target = source_dir / name, target_dir / name
        if not _same_file(source, target):
            _copy_atomically(source, target)
            copied += 1
    if copied:
        log.info("copied %d Leaflet files to %s", copied, target_dir)
    return target_dir
