"""Reading tabular files (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030) into string frames."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from hotspot.errors import UserError

__all__ = ["decode_text", "read_csv_table"]

# GB18030 is a superset of GBK and GB2312, so one attempt covers all three.
_ENCODINGS = ("utf-8-sig", "gb18030")


def decode_text(data: bytes, *, name: str = "file") -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM) or else GB18030.

    Parameters
    ----------
    data : bytes
    name : str
        File name for the error message.

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
            return data.decode(encoding), encoding
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
    if not data.strip():
        raise UserError(f"{path.name}: the file is empty")
    if b"\0" in data[:4096]:
        raise UserError(f"{path.name}: binary data, not a CSV file")
    text, encoding = decode_text(data, name=path.name)
    delimiter = _sniff_delimiter(text[:20_000])
    # pyarrow's parser is multi-threaded and keeps strings in Arrow buffers; it wants UTF-8.
    utf8 = data if encoding == "utf-8-sig" else text.encode("utf-8")
    del text
    try:
        frame = pd.read_csv(
            io.BytesIO(utf8.removeprefix(codecs.BOM_UTF8)),
            sep=delimiter,
            engine="pyarrow",
            dtype="string[pyarrow]",
            keep_default_na=False,
            na_values=[],
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise UserError(f"{path.name}: not a readable CSV file ({reason})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
