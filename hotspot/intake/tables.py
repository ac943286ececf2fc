"""Reading tabular files (CSV in UTF-8, GBK/GB18030 or UTF-16; XLSX) into string frames."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from hotspot.errors import UserError

__all__ = ["decode_text", "read_csv_table", "read_xlsx_table"]

# GB18030 is a superset of GBK and GB2312, so one attempt covers all three.
_ENCODINGS = ("utf-8-sig", "gb18030")
_SAMPLE_BYTES = 65_536
#: Delimiters a CSV file may use, in order of preference.
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "'|'"}
#: Records of the sample checked for a consistent number of fields.
_SNIFF_RECORDS = 50
# Bytes that never occur in text (C0 controls other than tab, newlines, form feed).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")
#: More than this share of control bytes in the sample: binary data, not text.
_BINARY_SHARE = 0.01
#: File signatures, to say what a binary file is instead.
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an XLSX workbook? name it .xlsx or use --format xlsx)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook (save it as .xlsx or CSV)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)


class _NotUtf8(Exception):
    """pyarrow met bytes that are not UTF-8 past the sample."""


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _undecodable(data: bytes, name: str, errors: dict[str, UnicodeDecodeError]) -> UserError:
    # The encoding that read further is the one the file was meant to be in.
    encoding, error = max(errors.items(), key=lambda item: item[1].start)
    labels = {"utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030"}
    offset = error.start
    bad = data[offset : max(error.end, offset + 1)][:4]
    shown = " ".join(f"0x{b:02X}" for b in bad)
    tried = " or ".join(labels.get(e, e.upper()) for e in errors)
    furthest = f" (read furthest as {labels.get(encoding, encoding.upper())})"
    return UserError(
        f"{name}: cannot decode byte{'s' if len(bad) > 1 else ''} {shown} at byte offset "
        f"{offset} (line {_line_of(data, offset)}): not valid {tried}"
        + (furthest if len(errors) > 1 else "")
    )


def decode_text(
    data: bytes, *, name: str = "file", final: bool = True, encodings: tuple[str, ...] = _ENCODINGS
) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM) or else GB18030.

    Parameters
    ----------
    data : bytes
    name : str
        File name for the error message.
    final : bool, default True
        False for a sample cut from a longer file: a character cut in half at its end
        is then not an error.
    encodings : tuple of str
        Encodings to try, in order.

    Returns
    -------
    tuple of str
        The text and the encoding that read it.

    Raises
    ------
    UserError
        When no encoding reads the bytes; names the first undecodable byte's offset.
    """
    errors: dict[str, UnicodeDecodeError] = {}
    for encoding in encodings:
        try:
            return codecs.getincrementaldecoder(encoding)().decode(data, final=final), encoding
        except UnicodeDecodeError as exc:
            errors[encoding] = exc
    raise _undecodable(data, name, errors)


def _utf16(data: bytes) -> str | None:
    """The UTF-16 encoding of ``data`` (by BOM, or by the zero bytes of ASCII), else None."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_zero = sample[0::2].count(0) / pairs
    odd_zero = sample[1::2].count(0) / pairs
    if odd_zero > 0.3 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.3 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _binary_kind(data: bytes) -> str | None:
    """What a file that is not text is, or None when it looks like text."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    sample = data[:4096]
    # one stray control byte is a bad cell (named on its row), not a binary file
    if len(_CONTROL_BYTES.findall(sample)) > max(_BINARY_SHARE * len(sample), 1):
        return "binary data"
    return None


def _decode_file(data: bytes, name: str) -> tuple[str | None, str, str, bool]:
    """Check that the bytes are text, find their encoding and decode a sample.

    Returns the whole text when it had to be decoded in Python (UTF-16), else None (large
    UTF-8 files go to pyarrow as bytes); the encoding; the sample; and whether the
    sample is the whole file.
    """
    utf16 = _utf16(data)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError as exc:
            raise _undecodable(data, name, {utf16: exc}) from None
        return text, utf16, text[:_SAMPLE_BYTES], len(text) <= _SAMPLE_BYTES
    kind = _binary_kind(data)
    if kind:
        raise UserError(f"{name}: {kind}, not a CSV file")
    # Tell the encoding from a sample: decoding a large file in Python costs seconds,
    # and pyarrow still rejects invalid UTF-8 further on.
    whole = len(data) <= _SAMPLE_BYTES
    sample, encoding = decode_text(data[:_SAMPLE_BYTES], name=name, final=whole)
    return None, encoding, sample, whole


def _records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    try:
        for record in reader:
            out.append(record)
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def _sniff_delimiter(sample: str, name: str, *, whole: bool) -> str:
    """The delimiter that splits the header and every sampled record evenly.

    Raises UserError when none does and the header splits on several, or when several
    split every line evenly: the file is then ambiguous, and a guess could read it wrong.
    """
    splits: dict[str, tuple[int, bool]] = {}
    for delimiter in _DELIMITERS:
        records = [r for r in _records(sample, delimiter, _SNIFF_RECORDS + 2) if r]
        if not whole and len(records) > 2:
            records = records[:-1]  # the sample may end inside its last record
        if records and len(records[0]) >= 2:
            width = len(records[0])
            splits[delimiter] = (width, all(len(r) == width for r in records[1:]))
    even = [d for d, (_, consistent) in splits.items() if consistent]
    candidates = even or list(splits)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        header = sample.lstrip().splitlines()[0]
        raise UserError(
            f"{name}: cannot tell the delimiter: the header {header[:60]!r} has no comma, "
            "semicolon, tab or '|'"
        )
    listed = " and ".join(f"{_DELIMITER_NAMES[d]} ({splits[d][0]} columns)" for d in candidates[:2])
    how = "every line evenly" if even else "the header"
    raise UserError(f"{name}: ambiguous delimiter: {listed} both split {how}")


def _check_header(names: list[str], name: str) -> None:
    seen: dict[str, int] = {}
    for position, header in enumerate(names, start=1):
        key = header.strip().casefold()
        if not key:
            continue
        if key in seen:
            raise UserError(
                f"{name}: duplicate column name {header.strip()!r} "
                f"(columns {seen[key]} and {position})"
            )
        seen[key] = position


def read_csv_table(path: Path) -> pd.DataFrame:
    """Read a CSV file as strings, every cell kept as written (no NA guessing).

    The encoding (UTF-8 with or without BOM, GBK/GB18030, UTF-16) and the delimiter
    (comma, semicolon, tab or ``|``) are detected.

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
        Empty file, binary data, undecodable bytes (with their offset), an ambiguous
        delimiter, duplicate header names, a truncated file or broken quoting: one line
        naming the problem and, where there is one, its row.
    """
    data = path.read_bytes()
    if not data:
        raise UserError(f"{path.name}: the file is empty (0 bytes)")
    text, encoding, sample, whole = _decode_file(data, path.name)
    sample = sample.removeprefix("\ufeff")
    if not sample.strip():
        raise UserError(f"{path.name}: the file is empty (only white space)")
    delimiter = _sniff_delimiter(sample, path.name, whole=whole)
    header = next((r for r in _records(sample, delimiter, _SNIFF_RECORDS) if r), [])
    _check_header(header, path.name)
    if text is None and encoding == "utf-8-sig":
        try:
            return _parse(data.removeprefix(codecs.BOM_UTF8), delimiter, path)
        except _NotUtf8:
            # Non-ASCII text that reads as UTF-8 up front makes a UTF-8 file with bad
            # bytes further on (GB18030 would read it as nonsense); name those bytes.
            if not sample.isascii():
                decode_text(data, name=path.name, encodings=("utf-8-sig",))
    if text is None:
        text, _ = decode_text(data, name=path.name)
    return _parse(text.removeprefix("\ufeff").encode("utf-8"), delimiter, path)


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
        reason = _diagnose(utf8.decode("utf-8"), delimiter)
        if reason is None:
            reason = "not a readable CSV file (" + (message.splitlines() or ["?"])[-1] + ")"
        raise UserError(f"{path.name}: {reason}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _diagnose(text: str, delimiter: str) -> str | None:
    """Why pyarrow could not parse the text, or None when the csv module cannot tell.

    The first row with a wrong number of fields, or broken quoting; rows are numbered as a
    spreadsheet shows them (header = row 1).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row, width, problem = 0, 0, None
    try:
        for record in reader:
            if not record:
                continue
            if problem is not None:
                break  # a row follows the bad one: it is not a cut-off end
            row += 1
            if row == 1:
                width = len(record)
            elif len(record) != width:
                problem = (row, len(record))
    except csv.Error as exc:
        if problem is None:
            if "end of data" in str(exc):
                return (
                    f"unclosed quote: the quoted field that starts in row {row + 1} never "
                    "ends (the file is cut short or a quote is missing)"
                )
            return f"broken quoting in row {row + 1} ({exc})"
    if problem is None:
        return None
    bad_row, fields = problem
    if bad_row == row and fields < width and not text.endswith(("\n", "\r")):
        return (
            f"the file is cut short: its last row (row {bad_row}) stops after "
            f"{fields} of {width} fields"
        )
    return f"row {bad_row} has {fields} fields, the header has {width}"


_XLSX_HINT = "not an XLSX workbook"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def read_xlsx_table(path: Path) -> pd.DataFrame:
    """Read the first sheet with a header and data of an XLSX workbook as strings.

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    pandas.DataFrame
        The sheet's first row as the header, every cell as text ("" when empty;
        dates as ``YYYY-MM-DD HH:MM:SS``). ``attrs["sheet"]`` names the sheet read and
        ``attrs["other_sheets"]`` the workbook's other sheets with data,
        ``attrs["first_row"]`` the spreadsheet row number of the first data row.

    Raises
    ------
    UserError
        Empty, truncated or non-XLSX file, an empty workbook, duplicate header names.
    """
    import openpyxl

    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise UserError(f"{path.name}: the file is empty (0 bytes)")
    if not head.startswith(b"PK\x03\x04"):
        kind = _binary_kind(head) or "text or other data, not a ZIP archive"
        raise UserError(f"{path.name}: {_XLSX_HINT}: {kind}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise UserError(
            f"{path.name}: truncated or damaged XLSX workbook (the ZIP archive is incomplete)"
        ) from None
    if "xl/workbook.xml" not in names:
        raise UserError(f"{path.name}: {_XLSX_HINT}: a ZIP archive without xl/workbook.xml")
    handle = path.open("rb")  # a file, not a name: openpyxl judges names by their suffix
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        handle.close()
        raise UserError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        filled = {sheet.title: _filled_rows(sheet) for sheet in book.worksheets}
        with_data = [sheet for sheet in book.worksheets if filled[sheet.title]]
        if not with_data:
            listed = ", ".join(filled) or "none"
            raise UserError(
                f"{path.name}: the workbook is empty (no cell has data; sheets: {listed})"
            )
        # the first sheet with a header and data, else the first with anything
        chosen = next((s for s in with_data if filled[s.title] > 1), with_data[0])
        rows = [list(r) for r in chosen.iter_rows(values_only=True)]
    except UserError:
        raise
    except Exception as exc:  # a damaged part of the archive shows only when read
        raise UserError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    finally:
        book.close()
        handle.close()
    # Blank rows and a title (工单明细表, one cell) above the header are dropped, and
    # attrs["first_row"] says where the data starts; blank rows below the data are
    # dropped; blank rows in between are kept, so that row numbers stay the sheet's.
    cells = [sum(1 for v in r if _cell_text(v).strip()) for r in rows]
    used = [i for i, count in enumerate(cells) if count]
    top, bottom = used[0], used[-1] + 1
    while cells[top] == 1:
        following = used[used.index(top) + 1 :]
        if not following or cells[following[0]] < 2:
            break
        top = following[0]
    rows = rows[top:bottom]
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows]
    header = [_cell_text(v).strip() for v in rows[0]]
    _check_header(header, path.name)
    columns = {}
    for position, name in enumerate(header):
        values = [_cell_text(r[position]) for r in rows[1:]]
        if not name:
            if not any(v.strip() for v in values):
                continue
            name = f"Unnamed: {position}"
        columns[name] = pd.array(values, dtype="string[pyarrow]")
    frame = pd.DataFrame(columns)
    frame.attrs["sheet"] = chosen.title
    frame.attrs["other_sheets"] = [s.title for s in with_data if s is not chosen]
    frame.attrs["first_row"] = top + 2
    return frame


def _filled_rows(sheet, enough: int = 2) -> int:
    """How many rows of a sheet hold data, counted up to ``enough``."""
    count = 0
    for row in sheet.iter_rows(values_only=True):
        if any(v is not None and str(v).strip() for v in row):
            count += 1
            if count >= enough:
                break
    return count
