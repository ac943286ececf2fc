"""Masking personal data (reporter and responsible person names and phones) for display."""

from __future__ import annotations

import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["MASK", "mask_name", "mask_phone"]

#: What stands for the hidden digits of a phone number.
MASK = "****"


def _as_text(values: ArrayLike) -> pd.Series:
    """``values`` as a nullable string Series (its own index kept when it is a Series)."""
    if isinstance(values, pd.Series):
        return values.astype("string")
    return pd.Series(values, dtype="string")


def _as_output(masked: pd.Series) -> pd.Series:
    """An object Series with None where the input was missing, as the store gives text."""
    out = masked.astype(object)
    return out.where(masked.notna(), None)


def mask_name(values: ArrayLike) -> pd.Series:
    """Hide a person's name but its first character: 张三 -> 张*, 欧阳娜娜 -> 欧***.

    The rule: surrounding whitespace is dropped, the first character is kept and
    every other character becomes ``*`` (so 张先生 -> 张**, the way 12345 records
    callers); a one-character name becomes ``*``. Empty strings stay empty and
    missing values stay missing.

    Parameters
    ----------
    values : array_like of str
        Names; a Series keeps its index.

    Returns
    -------
    pandas.Series
        Masked names (object dtype, None where missing).
    """
    text = _as_text(values).str.strip()
    masked = text.str.replace(r"(?s)(?<=.).", "*", regex=True)
    single = (text.str.len() == 1).fillna(False).astype(bool)
    return _as_output(masked.mask(single, "*"))


def mask_phone(values: ArrayLike) -> pd.Series:
    """Hide a phone number but its ends: 13812345678 -> 138****5678, 010-87654321 -> ****4321.

    The rule, on the digits alone (spaces, dashes and brackets ignored): an
    11-digit mobile number (1 and ten digits, after an optional +86 / 0086)
    keeps its first 3 and last 4 digits; any other number keeps its last 4
    digits behind ``****`` (a number of 4 digits or fewer, or text without
    digits, becomes ``****``). Empty strings stay empty and missing values stay
    missing.

    Parameters
    ----------
    values : array_like of str
        Phone numbers; a Series keeps its index.

    Returns
    -------
    pandas.Series
        Masked numbers (object dtype, None where missing).
    """
    text = _as_text(values).str.strip()
    digits = text.str.replace(r"\D", "", regex=True)
    digits = digits.str.replace(r"^(?:0086|86)(?=1\d{10}$)", "", regex=True)
    mobile = digits.str.fullmatch(r"1\d{10}").fillna(False).astype(bool)
    tail = digits.str[-4:].where(digits.str.len() > 4, "")
    masked = (MASK + tail).where(~mobile, digits.str[:3] + MASK + digits.str[-4:])
    masked = masked.where(text != "", "")
    return _as_output(masked.where(text.notna()))
