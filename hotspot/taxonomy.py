"""Issue categories (from data/categories.csv), report statuses and their workflow, sources."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

CATEGORIES_CSV: Path = Path(__file__).resolve().parents[1] / "data" / "categories.csv"

#: The 数字城管 event classes a category belongs to.
GROUPS: tuple[str, ...] = ("市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "扩展事件")

HEADLINE_LAYERS: tuple[str, ...] = ("zombie_cars", "illegal_construction", "ad_posting")

LAYER_NAMES: dict[str, tuple[str, str]] = {
    "zombie_cars": ("僵尸车", "Zombie cars"),
    "illegal_construction": ("违法建设", "Illegal construction"),
    "ad_posting": ("非法小广告", "Illegal ad posting"),
    "garbage": ("垃圾与环境卫生", "Garbage and sanitation"),
    "street_order": ("街面经营秩序", "Street trading order"),
    "parking": ("乱停乱放", "Disorderly parking"),
    "fire_safety": ("消防安全", "Fire safety"),
    "greenery": ("绿化", "Greenery"),
    "facilities": ("设施与路面", "Facilities and roads"),
    "dogs": ("文明养犬", "Dogs"),
    "construction_site": ("工地管理", "Construction sites"),
}

STATUSES: tuple[str, ...] = ("new", "dispatched", "in_progress", "resolved", "closed", "rejected")

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "new": ("待派遣", "New"),
    "dispatched": ("已派遣", "Dispatched"),
    "in_progress": ("整改中", "In progress"),
    "resolved": ("已整改", "Resolved"),
    "closed": ("核查结案", "Closed"),
    "rejected": ("不予立案", "Rejected"),
}

#: Still to be acted on: counted as "open" in the KPIs.
OPEN_STATUSES: tuple[str, ...] = ("new", "dispatched", "in_progress")
#: Work done; ``resolved`` still awaits the check (核查) that closes it.
DONE_STATUSES: tuple[str, ...] = ("resolved", "closed")

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"dispatched", "rejected"}),
    "dispatched": frozenset({"in_progress", "rejected"}),
    "in_progress": frozenset({"resolved"}),
    # a failed check (核查不通过) sends the report back for rework (返工)
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
    "rejected": frozenset(),
}

SOURCES: dict[str, tuple[str, str]] = {
    "hotline": ("12345热线", "12345 hotline"),
    "patrol": ("网格巡查", "Grid patrol"),
    "enforcement": ("执法检查", "Enforcement inspection"),
    "resident": ("居民上报", "Resident report"),
    "inspection": ("督查", "Supervisory inspection"),
}

# Words seen in 12345 work-order exports and patrol sheets, beyond the codes and names.
_STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "new": ("待处理", "未处理", "待派单", "待受理", "已立案", "新建", "未派遣"),
    "dispatched": ("已派单", "已派发", "已转派", "已交办", "派遣"),
    "in_progress": ("处理中", "办理中", "处置中", "整改中", "返工", "in progress"),
    "resolved": ("已办结", "已处理", "已处置", "已完成", "待核查", "处置完毕"),
    "closed": ("已结案", "结案", "已关闭", "关闭", "已核查", "核查通过"),
    "rejected": ("无效", "无效/不予立案", "无效工单", "退回", "已退回", "作废", "已作废"),
}

_SOURCE_WORDS: dict[str, tuple[str, ...]] = {
    "hotline": ("12345", "热线", "市民热线", "12345市民服务热线", "接诉即办"),
    "patrol": ("巡查", "网格员", "网格员上报", "巡查发现", "主动发现"),
    "enforcement": ("执法", "城管执法", "综合执法", "执法队"),
    "resident": ("居民", "居民举报", "群众举报", "市民举报", "随手拍"),
    "inspection": ("督查检查", "督办", "督导检查", "检查督导", "创城督查"),
}

_COLUMNS: tuple[str, ...] = (
    "code",
    "group",
    "name_zh",
    "name_en",
    "layer",
    "footprint",
    "external_code",
    "aliases",
)
_CODE_RE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_EXTERNAL_CODE_RE = re.compile(r"[0-9A-Za-z]*")
# NFKC turns the ideographic space into a plain one; zero-width characters are not \s.
_IGNORED_RE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")


class _Taxonomy(NamedTuple):
    """A validated category table and the lookup built from it."""

    frame: pd.DataFrame
    lookup: dict[str, str]


def _normalise(value: object) -> str:
    """Return the lookup key of a name: NFKC, no whitespace at all, casefolded."""
    return _IGNORED_RE.sub("", unicodedata.normalize("NFKC", str(value))).casefold()


def _build_lookup(names: Mapping[str, Iterable[str]], what: str) -> dict[str, str]:
    """Map every normalised name to its code, refusing a name claimed by two codes."""
    lookup: dict[str, str] = {}
    for code, words in names.items():
        for word in (code, *words):
            key = _normalise(word)
            owner = lookup.setdefault(key, code)
            if owner != code:
                raise ValueError(f"{what} name {word!r} is claimed by both {owner!r} and {code!r}")
    return lookup


def _map_values(
    values: Sequence[object] | np.ndarray | pd.Series, func: Callable[[object], object]
) -> np.ndarray:
    """Apply ``func`` once per distinct non-missing value; missing values give None.

    Parameters
    ----------
    values : sequence, numpy.ndarray or pandas.Series
        The values to map, of any shape.
    func : callable
        Maps one distinct value to its result.

    Returns
    -------
    numpy.ndarray
        Object array of the same shape as ``values``.
    """
    if isinstance(values, str):
        raise TypeError("pass a sequence of strings, not a single string")
    array = np.asarray(values, dtype=object)
    flat = array.ravel()
    positions, uniques = pd.factorize(flat, use_na_sentinel=True)
    # the extra trailing None is what the missing-value sentinel -1 picks
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(value) for value in uniques]
    mapped[-1] = None
    return mapped[positions].reshape(array.shape)


def _read_categories(path: Path) -> _Taxonomy:
    """Read and validate a categories CSV.

    Parameters
    ----------
    path : pathlib.Path
        The CSV file (UTF-8, header as in ``data/categories.csv``).

    Returns
    -------
    _Taxonomy
        The category frame and its name lookup.

    Raises
    ------
    ValueError
        With a one-line reason naming the file line and code of the first bad row.
    """
    name = path.name
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = " ".join(str(exc).split())
        raise ValueError(f"{name}: not a readable UTF-8 CSV: {reason}") from exc
    # a short row leaves NaN in the missing cells
    raw = raw.fillna("")
    header = [str(column).strip() for column in raw.columns]
    if header != list(_COLUMNS):
        raise ValueError(f"{name}: header must be {','.join(_COLUMNS)}, got {','.join(header)}")

    rows: list[dict[str, object]] = []
    lookup: dict[str, str] = {}
    owners: dict[str, int] = {}  # code -> file line, for messages
    for offset, record in enumerate(raw.itertuples(index=False, name=None)):
        line = offset + 2  # line 1 is the header
        code, group, name_zh, name_en, layer, footprint, external_code, alias_text = (
            str(cell).strip() for cell in record
        )

        def fail(reason: str, line: int = line, code: str = code) -> ValueError:
            return ValueError(f"{name} line {line} (code {code!r}): {reason}")

        if not _CODE_RE.fullmatch(code):
            raise fail("code must be lowercase snake_case ASCII")
        if code in owners:
            raise fail(f"duplicate code, first used on line {owners[code]}")
        if group not in GROUPS:
            raise fail(f"unknown group {group!r}; expected one of {', '.join(GROUPS)}")
        if not name_zh or not name_en:
            raise fail("name_zh and name_en must not be empty")
        if layer not in LAYER_NAMES:
            raise fail(f"unknown layer {layer!r}; expected one of {', '.join(LAYER_NAMES)}")
        if footprint not in ("0", "1"):
            raise fail(f"footprint must be 0 or 1, got {footprint!r}")
        if not _EXTERNAL_CODE_RE.fullmatch(external_code):
            raise fail(f"external_code must be letters and digits, got {external_code!r}")
        aliases = tuple(alias.strip() for alias in alias_text.split("|") if alias.strip())

        owners[code] = line
        for kind, word in (
            ("code", code),
            ("name_zh", name_zh),
            ("name_en", name_en),
            *(("alias", alias) for alias in aliases),
        ):
            key = _normalise(word)
            other = lookup.setdefault(key, code)
            if other != code:
                raise fail(
                    f"{kind} {word!r} clashes with a name or alias of {other!r} "
                    f"(line {owners[other]})"
                )
        rows.append(
            {
                "code": code,
                "group": group,
                "name_zh": name_zh,
                "name_en": name_en,
                "layer": layer,
                "footprint": footprint == "1",
                "external_code": external_code,
                "aliases": aliases,
            }
        )

    if not rows:
        raise ValueError(f"{name}: no categories")
    frame = pd.DataFrame(rows, columns=list(_COLUMNS)).set_index("code")
    frame["footprint"] = frame["footprint"].astype(bool)
    return _Taxonomy(frame, lookup)


@functools.lru_cache(maxsize=1)
def _default_taxonomy() -> _Taxonomy:
    """Return the shipped categories, read once."""
    return _read_categories(CATEGORIES_CSV)


def load_categories(path: Path | None = None) -> pd.DataFrame:
    """Load and validate the category table.

    Parameters
    ----------
    path : pathlib.Path, optional
        A categories CSV; the shipped ``data/categories.csv`` (read once and
        cached) when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per category, indexed by ``code``, with columns ``group``,
        ``name_zh``, ``name_en``, ``layer``, ``footprint`` (bool),
        ``external_code`` (str, ``""`` when none) and ``aliases`` (tuple of str).

    Raises
    ------
    ValueError
        If the file is malformed: wrong header, bad or duplicate code, unknown
        group or layer, empty name, or a name or alias used by two categories.
        The message names the offending line and code.
    """
    if path is None or Path(path).resolve() == CATEGORIES_CSV:
        return _default_taxonomy().frame.copy()
    return _read_categories(Path(path)).frame


def resolve_categories(values: Sequence[str] | np.ndarray | pd.Series) -> np.ndarray:
    """Map category codes, names or aliases to category codes.

    Parameters
    ----------
    values : sequence of str, numpy.ndarray or pandas.Series
        Codes, Chinese or English names, or aliases as seen in 12345 exports.
        Surrounding and inner whitespace (full-width included) and case are
        ignored.

    Returns
    -------
    numpy.ndarray
        Object array of codes, the same shape as ``values``; None where a value
        is unknown or missing.

    Examples
    --------
    >>> resolve_categories(["僵尸车", " 私搭乱建\u3000", "Posted flyers", "无此类"]).tolist()
    ['abandoned_vehicle', 'illegal_structure', 'ad_posting', None]
    """
    lookup = _default_taxonomy().lookup
    return _map_values(values, lambda value: lookup.get(_normalise(value)))


def suggest_category(value: str) -> str | None:
    """Suggest the known category closest to an unrecognised value.

    Parameters
    ----------
    value : str
        The value that did not resolve.

    Returns
    -------
    str or None
        ``"code (name_zh)"`` of the closest code, name or alias, or None when
        nothing is close enough.

    Examples
    --------
    >>> suggest_category("小广吿")
    'ad_posting (张贴小广告)'
    """
    key = _normalise(value)
    if not key:
        return None
    taxonomy = _default_taxonomy()
    matches = difflib.get_close_matches(key, list(taxonomy.lookup), n=1, cutoff=0.5)
    if not matches:
        return None
    code = taxonomy.lookup[matches[0]]
    return f"{code} ({taxonomy.frame.at[code, 'name_zh']})"


def layer_of(codes: Sequence[str] | np.ndarray | pd.Series) -> np.ndarray:
    """Return the map layer of each category code.

    Parameters
    ----------
    codes : sequence of str, numpy.ndarray or pandas.Series
        Category codes (as returned by `resolve_categories`).

    Returns
    -------
    numpy.ndarray
        Object array of layer names, the same shape as ``codes``; None for an
        unknown or missing code.
    """
    layers = _default_taxonomy().frame["layer"].to_dict()
    return _map_values(codes, layers.get)


_STATUS_LOOKUP = _build_lookup(
    {status: (*STATUS_NAMES[status], *_STATUS_WORDS[status]) for status in STATUSES},
    "status",
)

_SOURCE_LOOKUP = _build_lookup(
    {source: (*SOURCES[source], *_SOURCE_WORDS[source]) for source in SOURCES},
    "source",
)


def resolve_statuses(values: Sequence[str] | np.ndarray | pd.Series) -> np.ndarray:
    """Map status codes, names and 12345 status words to status codes.

    Parameters
    ----------
    values : sequence of str, numpy.ndarray or pandas.Series
        Codes (``in_progress``), Chinese or English names (整改中, In progress)
        or words from 12345 exports (处理中, 已办结, 退回, ...).

    Returns
    -------
    numpy.ndarray
        Object array of status codes, the same shape as ``values``; None where
        a value is unknown or missing.

    Examples
    --------
    >>> resolve_statuses(["已派单", "办理中", "已办结", "结案", "退回", "?"]).tolist()
    ['dispatched', 'in_progress', 'resolved', 'closed', 'rejected', None]
    """
    return _map_values(values, lambda value: _STATUS_LOOKUP.get(_normalise(value)))


def resolve_sources(values: Sequence[str] | np.ndarray | pd.Series) -> np.ndarray:
    """Map report source codes and names to source codes.

    Parameters
    ----------
    values : sequence of str, numpy.ndarray or pandas.Series
        Codes (``hotline``), Chinese or English names (12345热线, Grid patrol)
        or common variants (12345, 网格员, 群众举报, ...).

    Returns
    -------
    numpy.ndarray
        Object array of source codes, the same shape as ``values``; None where
        a value is unknown or missing.
    """
    return _map_values(values, lambda value: _SOURCE_LOOKUP.get(_normalise(value)))


def _status_label(status: str) -> str:
    """Return ``"整改中 (in_progress)"`` for a status code."""
    return f"{STATUS_NAMES[status][0]} ({status})"


def _require_status(status: str) -> None:
    """Raise ValueError unless ``status`` is a status code."""
    if status not in TRANSITIONS:
        raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")


def check_transition(current: str, target: str) -> None:
    """Refuse a status change that the workflow does not allow.

    Parameters
    ----------
    current : str
        The report's status code.
    target : str
        The status code it should move to.

    Raises
    ------
    ValueError
        If either is not a status code, or the move is not in `TRANSITIONS`;
        the message lists the allowed targets.

    Examples
    --------
    >>> check_transition("resolved", "in_progress")  # a failed check: rework
    >>> check_transition("in_progress", "closed")
    Traceback (most recent call last):
    ...
    ValueError: cannot move a report from 整改中 (in_progress) to 核查结案 (closed); allowed: 已整改 (resolved)
    """  # noqa: E501
    _require_status(current)
    _require_status(target)
    allowed = TRANSITIONS[current]
    if target in allowed:
        return
    if allowed:
        listed = ", ".join(_status_label(status) for status in STATUSES if status in allowed)
    else:
        listed = f"none ({STATUS_NAMES[current][0]} is final)"
    raise ValueError(
        f"cannot move a report from {_status_label(current)} to {_status_label(target)}; "
        f"allowed: {listed}"
    )


def is_rework(current: str, target: str) -> bool:
    """Tell whether a status change sends resolved work back (返工, a failed check).

    Parameters
    ----------
    current : str
        The status code before the change.
    target : str
        The status code after it.

    Returns
    -------
    bool
        True for ``resolved`` -> ``in_progress``.
    """
    return current == "resolved" and target == "in_progress"
