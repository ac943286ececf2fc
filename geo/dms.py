"""Degree-minute-second coordinate text (116°18'30.5"E, 东经116度18分30.5秒) to decimal degrees."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = ["Dms", "parse_dms"]

_NUMBER = r"\d+(?:\.\d+)?"
_HEMISPHERE = r"东经|西经|北纬|南纬|[NSEWnsew东西南北]"
# Degrees, then optional minutes and seconds, each with its mark; or bare decimal degrees
# with a hemisphere (E116.3083, 116.3083E). A sign or a hemisphere may lead or trail.
_PATTERN = (
    rf"^\s*(?P<pre>{_HEMISPHERE})?\s*(?P<sign>[-+−])?\s*(?P<deg>{_NUMBER})\s*"
    r"(?:(?P<degmark>[°º˚度]|[dD](?![a-zA-Z]))\s*"
    rf"(?:(?P<min>{_NUMBER})\s*(?:[''′’‘]|分|[mM])\s*"
    rf"(?:(?P<sec>{_NUMBER})\s*(?:''|[\"″”“]|秒|[sS])?)?)?)?"
    rf"\s*(?P<post>{_HEMISPHERE})?\s*$"
)
_LETTERS = {
    "东经": "E",
    "西经": "W",
    "北纬": "N",
    "南纬": "S",
    "东": "E",
    "西": "W",
    "北": "N",
    "南": "S",
}


class Dms(NamedTuple):
    """Parsed coordinate text.

    Attributes
    ----------
    degrees : numpy.ndarray of float64
        Signed decimal degrees (south and west negative); NaN where the text is not a
        valid coordinate.
    hemisphere : numpy.ndarray of str
        ``"N"``, ``"S"``, ``"E"``, ``"W"`` as written, ``""`` where none is.
    shaped : numpy.ndarray of bool
        The text is written as a degree coordinate (a degree mark or a hemisphere),
        whether or not its numbers are valid: NaN with ``shaped`` means minutes or
        seconds of 60 or more, fractional degrees followed by minutes, or two signs.
    """

    degrees: NDArray[np.float64]
    hemisphere: NDArray[np.str_]
    shaped: NDArray[np.bool_]


def parse_dms(values: ArrayLike) -> Dms:
    r"""Parse degree-minute-second (or degree-decimal-minute) coordinate text.

    Accepts ``116°18'30.5"E``, ``116° 18′ 30.5″ E``, ``E116°18.508'``, ``39°47'06"N``,
    ``-116°18'30.5"``, ``116.3085°E``, ``东经116度18分30.5秒`` and ``北纬39度47分6秒``.

    Parameters
    ----------
    values : array_like of str
        Coordinate text, one value per element (leading/trailing white space allowed).

    Returns
    -------
    Dms
        Decimal degrees, hemisphere letter and whether each value is degree text.

    Examples
    --------
    >>> round(float(parse_dms(["116°18'30.5\"E"]).degrees[0]), 6)
    116.308472
    >>> float(parse_dms(["39°30'S"]).degrees[0])
    -39.5
    """
    text = pd.Series(np.asarray(values, dtype=object), dtype=object).fillna("").astype(str)
    parts = text.str.extract(_PATTERN)
    matched = parts["deg"].notna().to_numpy()
    pre = parts["pre"].fillna("").replace(_LETTERS).str.upper().to_numpy(dtype=str)
    post = parts["post"].fillna("").replace(_LETTERS).str.upper().to_numpy(dtype=str)
    has_mark = parts["degmark"].notna().to_numpy()
    shaped = matched & (has_mark | (pre != "") | (post != ""))

    deg = pd.to_numeric(parts["deg"]).to_numpy(dtype=np.float64, na_value=np.nan)
    minutes = pd.to_numeric(parts["min"]).to_numpy(dtype=np.float64, na_value=np.nan)
    seconds = pd.to_numeric(parts["sec"]).to_numpy(dtype=np.float64, na_value=np.nan)
    has_min = np.isfinite(minutes)
    has_sec = np.isfinite(seconds)
    with np.errstate(invalid="ignore"):
        valid = (
            matched
            & ~((pre != "") & (post != ""))
            & ~(has_min & (deg != np.floor(deg)))
            & ~(has_sec & (minutes != np.floor(minutes)))
            & ~(has_min & (minutes >= 60))
            & ~(has_sec & (seconds >= 60))
        )
    hemisphere = np.where(pre != "", pre, post)
    sign_text = parts["sign"].fillna("").to_numpy(dtype=str)
    negative = np.isin(sign_text, ["-", "−"])
    # a sign and a hemisphere together say the same thing twice, possibly contradicting
    valid &= ~((sign_text != "") & (hemisphere != ""))
    magnitude = deg + np.where(has_min, minutes, 0.0) / 60 + np.where(has_sec, seconds, 0.0) / 3600
    south_west = np.isin(hemisphere, ["S", "W"])
    degrees = np.where(negative | south_west, -magnitude, magnitude)
    degrees = np.where(valid, degrees, np.nan)
    return Dms(degrees=degrees, hemisphere=hemisphere.astype(str), shaped=shaped)
