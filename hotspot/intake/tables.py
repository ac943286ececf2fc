"""Reading tabular files (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030) into string frames."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd

from hotspot.errors import UserError

__all__ = ["decode_text", "read_csv_table"]

# GB18030 is a superset of GBK and GB2312, so one attempt covers all three.
_ENCODINGS = ("utf-8-sig", "gb18030")
_SAMPLE_BYTES = 65_536


class _NotUtf8(Exception):
    """pyarrow met bytes that are not UTF-8 past the sample."""


def decode_text(data: bytes, *, name: str = "file", final: bool = True) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM) or else GB18030.

    Parameters
    ----------
    data : bytes
    name : str
        File name for the error message.
    final : bool, default True
        False for a sample cut from a longer file: a character cut in half at its end
        is then not an error.

    Returns
    -------
    tuple of str
        The text and the encoding that read it.

    Raises
    ------
    UserError
        When neither encoding reads the bytes.
    """
    for encoding in _ENCODINGS:
        try:
            return codecs.getincrementaldecoder(encoding)().decode(data, final=final), encoding
        except UnicodeDecodeError:
            continue
    raise UserError(f"{name}: not a text file in UTF-8 or GBK/GB18030")


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_csv_table(path: Path) -> pd.DataFrame:
    """Read a CSV file as strings, every cell kept as written (no NA guessing).

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    pandas.DataFrame
        Header names stripped of white space; every column a string column with "" for an
        empty cell.

    Raises
    ------
    UserError
        Empty file, no header, undecodable bytes or broken quoting.
    """
    data = path.read_bytes()
    if re.search(rb"\S", data) is None:
        raise UserError(f"{path.name}: the file is empty")
    if b"\0" in data[:4096]:
        raise UserError(f"{path.name}: binary data, not a CSV file")
    # Tell the encoding from a sample: decoding a large file in Python costs seconds,
    # and pyarrow still rejects invalid UTF-8 further on, which sends us to GB18030.
    sample, encoding = decode_text(data[:_SAMPLE_BYTES], name=path.name, final=False)
    delimiter = _sniff_delimiter(sample)
    if encoding == "utf-8-sig":
        try:
            return _parse(data.removeprefix(codecs.BOM_UTF8), delimiter, path)
        except _NotUtf8:
            pass
    text, _ = decode_text(data, name=path.name)
    return _parse(text.encode("utf-8"), delimiter, path)


def _parse(utf8: bytes, delimiter: str, path: Path) -> pd.DataFrame:
    # pyarrow's parser is multi-threaded and keeps strings in Arrow buffers; it wants UTF-8.
    try:
        frame = pd.read_csv(
            io.BytesIO(utf8),
            sep=delimiter,
            engine="pyarrow",
            dtype="string[pyarrow]",
            keep_default_na=False,
            na_values=[],
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        message = str(exc).strip()
        if "utf8" in message.lower().replace("-", ""):
            raise _NotUtf8 from None
        reason = message.splitlines()[-1] if message else "unreadable"
        raise UserError(f"{path.name}: not a readable CSV file ({reason})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
