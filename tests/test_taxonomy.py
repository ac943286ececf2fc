"""Categories, statuses, transitions and sources of hotspot.taxonomy."""

import doctest
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspot import taxonomy
from hotspot.taxonomy import (
    CATEGORIES_CSV,
    DONE_STATUSES,
    HEADLINE_LAYERS,
    LAYER_NAMES,
    OPEN_STATUSES,
    SOURCES,
    STATUS_NAMES,
    STATUSES,
    TRANSITIONS,
    check_transition,
    is_rework,
    layer_of,
    load_categories,
    resolve_categories,
    resolve_sources,
    resolve_statuses,
    suggest_category,
)

HEADER = "code,group,name_zh,name_en,layer,footprint,external_code,aliases"
GROUPS = ("市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "扩展事件")


@pytest.fixture(scope="module")
def categories() -> pd.DataFrame:
    return load_categories()


# --- the shipped file ------------------------------------------------------------------


def test_shipped_csv_is_utf8_without_bom_with_the_exact_header():
    raw = CATEGORIES_CSV.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8").splitlines()[0] == HEADER


def test_shipped_csv_loads_one_row_per_code(categories):
    assert categories.index.name == "code"
    assert list(categories.columns) == HEADER.split(",")[1:]
    assert categories.index.is_unique


def test_loaded_columns_have_the_documented_types(categories):
    assert categories["footprint"].dtype == bool
    assert all(isinstance(value, str) for value in categories["external_code"])
    assert all(isinstance(value, tuple) for value in categories["aliases"])
    assert all(isinstance(a, str) and a for aliases in categories["aliases"] for a in aliases)


def test_there_are_at_least_40_categories(categories):
    assert len(categories) >= 40


def test_all_six_event_groups_are_used_and_no_other(categories):
    assert set(categories["group"]) == set(GROUPS)


def test_every_headline_layer_has_at_least_three_categories(categories):
    counts = categories["layer"].value_counts()
    for layer in HEADLINE_LAYERS:
        assert counts.get(layer, 0) >= 3, layer


def test_every_layer_used_has_chinese_and_english_names(categories):
    assert set(categories["layer"]) <= set(LAYER_NAMES)
    assert set(HEADLINE_LAYERS) <= set(LAYER_NAMES)
    for zh, en in LAYER_NAMES.values():
        assert zh and en


def test_codes_in_the_file_are_unique_snake_case():
    codes = pd.read_csv(CATEGORIES_CSV, dtype=str, keep_default_na=False)["code"]
    assert codes.is_unique
    for code in codes:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code), code


def test_headline_layers_hold_the_design_categories(categories):
    expected = {
        "zombie_cars": {"abandoned_vehicle", "abandoned_bicycle", "shed_storage"},
        "illegal_construction": {
            "illegal_structure",
            "wall_opening",
            "green_encroachment",
            "private_parking_lock",
            "illegal_overhead_wire",
        },
        "ad_posting": {
            "ad_posting",
            "ad_spraying",
            "ad_leafleting",
            "illegal_signboard",
            "sidewalk_ad_board",
        },
    }
    for layer, codes in expected.items():
        assert codes <= set(categories.index[categories["layer"] == layer]), layer


def test_footprint_categories_include_illegal_structures_and_green_encroachment(categories):
    footprint = set(categories.index[categories["footprint"]])
    assert {"illegal_structure", "green_encroachment"} <= footprint
    assert "abandoned_vehicle" not in footprint
    assert "ad_posting" not in footprint


def test_abandoned_vehicle_carries_the_beijing_code_and_unknown_codes_are_empty(categories):
    assert categories.at["abandoned_vehicle", "external_code"] == "200107"
    external = categories["external_code"]
    assert external[external != ""].is_unique


def test_loaded_frame_is_a_copy_callers_cannot_corrupt():
    first = load_categories()
    first.loc["abandoned_vehicle", "layer"] = "garbage"
    assert load_categories().at["abandoned_vehicle", "layer"] == "zombie_cars"


# --- resolving names -------------------------------------------------------------------


def test_every_alias_resolves_to_its_own_category(categories):
    for code, aliases in categories["aliases"].items():
        assert aliases, f"{code} has no alias"
        assert resolve_categories(list(aliases)).tolist() == [code] * len(aliases)


def test_every_code_and_name_resolves_to_its_category(categories):
    codes = categories.index.to_numpy()
    for column in ("name_zh", "name_en"):
        np.testing.assert_array_equal(resolve_categories(categories[column]), codes)
    np.testing.assert_array_equal(resolve_categories(codes), codes)


def test_no_alias_equals_a_name_or_alias_of_another_category(categories):
    owner: dict[str, str] = {}
    for code, row in categories.iterrows():
        for word in (code, row["name_zh"], row["name_en"].casefold(), *row["aliases"]):
            assert owner.setdefault(word, code) == code, word


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("\u3000僵尸车\u3000", "abandoned_vehicle"),
        (" 废弃车辆\t", "abandoned_vehicle"),
        ("\u3000私搭乱建 ", "illegal_structure"),
        ("  ABANDONED MOTOR VEHICLE ", "abandoned_vehicle"),
        ("Abandoned motor vehicle", "abandoned_vehicle"),
        ("\u3000abandoned_vehicle\u3000", "abandoned_vehicle"),
        ("Illegal_Structure", "illegal_structure"),
        ("开墙\u3000打洞", "wall_opening"),
    ],
)
def test_names_codes_and_aliases_resolve_ignoring_spaces_and_case(value, code):
    assert resolve_categories([value]).tolist() == [code]


def test_unknown_and_missing_values_resolve_to_none():
    result = resolve_categories(["不存在的问题", "", None, np.nan, "僵尸车"])
    assert result.dtype == object
    assert result.tolist() == [None, None, None, None, "abandoned_vehicle"]


def test_resolution_keeps_order_shape_and_accepts_series():
    values = pd.Series(["小广告", "僵尸车", "小广告", "违建"])
    assert resolve_categories(values).tolist() == [
        "ad_posting",
        "abandoned_vehicle",
        "ad_posting",
        "illegal_structure",
    ]
    grid = np.array([["僵尸车", "违建"], ["?", "小广告"]], dtype=object)
    assert resolve_categories(grid).shape == (2, 2)
    assert resolve_categories([]).tolist() == []


def test_a_single_string_is_refused_rather_than_split_into_characters():
    with pytest.raises(TypeError):
        resolve_categories("僵尸车")


def test_misspelt_ad_suggests_an_ad_posting_category(categories):
    suggestion = suggest_category("小广吿")
    assert suggestion is not None
    code, name = re.fullmatch(r"(\w+) \((.+)\)", suggestion).groups()
    assert categories.at[code, "layer"] == "ad_posting"
    assert categories.at[code, "name_zh"] == name


def test_misspelt_zombie_car_suggests_abandoned_vehicle():
    assert suggest_category("僵尸车辆") == "abandoned_vehicle (废弃车辆)"


@pytest.mark.parametrize("value", ["zzqqxxyy", "", "\u3000"])
def test_nothing_close_gives_no_suggestion(value):
    assert suggest_category(value) is None


def test_layer_of_maps_codes_and_gives_none_for_unknown():
    result = layer_of(["abandoned_vehicle", "wall_opening", "ad_leafleting", "nope", None])
    assert result.tolist() == ["zombie_cars", "illegal_construction", "ad_posting", None, None]


# The ten environmental problems of residential compounds (seed 000), each with the
# words that must appear in some category's Chinese name or aliases.
TEN_PROBLEMS = {
    "1 垃圾分类不规范": ["垃圾分类"],
    "2 卫生死角和楼道堆积废弃物": ["卫生死角", "楼道"],
    "3 生活垃圾乱堆乱放": ["乱堆乱放", "大件垃圾", "装修垃圾"],
    "4 非法张贴、喷涂、散发小广告": ["张贴", "喷涂", "散发"],
    "5 文明养犬": ["犬"],
    "6 僵尸车": ["僵尸车", "废旧自行车", "存车存物"],
    "7 电动自行车消防安全": ["飞线充电", "电动自行车乱停放"],
    "8 车辆占用消防通道": ["消防通道"],
    "9 拆除违法建筑": ["私搭乱建", "开墙打洞", "圈占绿地", "地锁", "架空线", "晾衣绳"],
    "10 季节性环境治理": ["积水", "倒伏树木", "积雪", "裸露地面", "焚烧树叶"],
}


@pytest.mark.parametrize("problem", list(TEN_PROBLEMS))
def test_each_of_the_ten_environmental_problems_has_a_category(categories, problem):
    texts = ["|".join((row["name_zh"], *row["aliases"])) for _, row in categories.iterrows()]
    for keyword in TEN_PROBLEMS[problem]:
        assert any(keyword in text for text in texts), f"{problem}: no category for {keyword}"


# Wording of the 门前三包 checklist (附件1 items 1-8) and seeds 001-003, as it
# would arrive in a work order.
SEED_WORDS = {
    "暴露垃圾": "exposed_garbage",
    "白色污染": "exposed_garbage",
    "渣土": "muck_debris",
    "油脂餐余": "kitchen_grease",
    "污水横流": "sewage_overflow",
    "非法小广告": "ad_posting",
    "一店多匾": "illegal_signboard",
    "落地式灯箱广告": "illegal_signboard",
    "违规楼顶广告": "illegal_signboard",
    "广告牌匾破损": "damaged_signboard",
    "堆物堆料": "piled_goods",
    "店外经营": "outside_store_business",
    "占道经营": "street_vending",
    "露天烧烤": "outdoor_bbq",
    "违法停车": "illegal_parking",
    "自行车乱停放": "bicycle_parking",
    "施工机械车乱停放": "machinery_parking",
    "私装地锁": "private_parking_lock",
    "侵占破坏绿化": "green_damage",
    "树木拴钉刻划": "tree_damage",
    "路面破损": "road_damage",
    "外立面脏污破损": "facade_dirty",
    "工地苫盖围挡缺失": "site_enclosure",
    "开墙打洞": "wall_opening",
    "无证照经营": "unlicensed_business",
    "乱刻乱画": "graffiti",
    "沿街晾晒": "hanging_laundry",
    "游商": "mobile_vendor",
    "流动摊贩": "mobile_vendor",
    "垃圾桶满冒": "overflowing_bin",
    "乱挂乱晒": "hanging_laundry",
    "生活污水乱倒": "sewage_dumping",
    "流浪犬": "stray_dog",
    "飞线充电": "flying_wire_charging",
    "楼道堆积废弃物": "corridor_clutter",
    "车棚存车存物": "shed_storage",
    "废旧自行车": "abandoned_bicycle",
    "圈占绿地": "green_encroachment",
    "私搭晾衣绳": "clothesline_rope",
    "乱搭架空线": "illegal_overhead_wire",
    "河道漂浮物": "river_litter",
    "工地扬尘": "construction_dust",
}


def test_seed_wording_resolves_to_the_intended_category():
    words = list(SEED_WORDS)
    assert dict(zip(words, resolve_categories(words), strict=True)) == SEED_WORDS


# --- broken files ----------------------------------------------------------------------

GOOD_ROWS = [
    "abandoned_vehicle,市容环境,废弃车辆,Abandoned motor vehicle,zombie_cars,0,200107,僵尸车",
    "illegal_structure,市容环境,私搭乱建,Illegal structure,illegal_construction,1,,违建|违章建筑",
]


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "categories.csv"
    path.write_text("\n".join((header, *GOOD_ROWS, *rows)) + "\n", encoding="utf-8")
    return path


def test_a_small_valid_file_loads(tmp_path):
    frame = load_categories(write_csv(tmp_path))
    assert frame.index.tolist() == ["abandoned_vehicle", "illegal_structure"]
    assert frame.at["illegal_structure", "aliases"] == ("违建", "违章建筑")
    assert frame["footprint"].tolist() == [False, True]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "abandoned_vehicle,市容环境,僵尸车二,Zombie car two,zombie_cars,0,,",
            "duplicate code, first used on line 2",
        ),
        ("noise,城市管理,施工扰民,Construction noise,construction_site,0,,", "unknown group"),
        ("zombie,市容环境,长期停放,Long parked,zombie_cars,0,,僵尸车", "alias '僵尸车' clashes"),
        ("shack,市容环境,棚屋,Shack,illegal_construction,1,,私搭乱建", "alias '私搭乱建' clashes"),
        ("shack,市容环境,棚屋,Illegal Structure,illegal_construction,1,,", "name_en"),
        ("shack,市容环境,,Shack,illegal_construction,1,,", "must not be empty"),
        ("Shack,市容环境,棚屋,Shack,illegal_construction,1,,", "snake_case"),
        ("shack,市容环境,棚屋,Shack,sheds,1,,", "unknown layer 'sheds'"),
        ("shack,市容环境,棚屋,Shack,illegal_construction,yes,,", "footprint must be 0 or 1"),
    ],
)
def test_a_broken_file_raises_naming_the_row(tmp_path, row, reason):
    code = row.split(",")[0]
    with pytest.raises(ValueError, match=re.escape(reason)) as info:
        load_categories(write_csv(tmp_path, row))
    message = str(info.value)
    assert f"line 4 (code {code!r})" in message
    assert "\n" not in message


def test_a_wrong_header_is_refused(tmp_path):
    path = write_csv(tmp_path, header=HEADER.replace("aliases", "alias"))
    with pytest.raises(ValueError, match="header must be"):
        load_categories(path)


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "categories.csv"
    path.write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no categories"):
        load_categories(path)


# --- statuses and transitions ----------------------------------------------------------


def test_every_status_has_names_and_a_transition_entry():
    assert set(STATUS_NAMES) == set(STATUSES) == set(TRANSITIONS)
    for targets in TRANSITIONS.values():
        assert targets <= set(STATUSES)


def test_open_and_done_statuses_are_disjoint_known_statuses():
    assert OPEN_STATUSES == ("new", "dispatched", "in_progress")
    assert DONE_STATUSES == ("resolved", "closed")
    assert not set(OPEN_STATUSES) & set(DONE_STATUSES)
    assert "rejected" not in OPEN_STATUSES + DONE_STATUSES


@pytest.mark.parametrize(
    ("current", "target"),
    [(current, target) for current, targets in TRANSITIONS.items() for target in targets],
)
def test_every_allowed_transition_passes(current, target):
    check_transition(current, target)


def test_the_workflow_runs_from_new_to_closed():
    path = ["new", "dispatched", "in_progress", "resolved", "closed"]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_closing_unresolved_work_is_refused_with_the_allowed_list():
    with pytest.raises(ValueError) as info:
        check_transition("in_progress", "closed")
    assert str(info.value) == (
        "cannot move a report from 整改中 (in_progress) to 核查结案 (closed); "
        "allowed: 已整改 (resolved)"
    )


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("new", "in_progress", "allowed: 已派遣 (dispatched), 不予立案 (rejected)"),
        ("new", "closed", "allowed: 已派遣 (dispatched), 不予立案 (rejected)"),
        ("dispatched", "resolved", "allowed: 整改中 (in_progress), 不予立案 (rejected)"),
        ("in_progress", "rejected", "allowed: 已整改 (resolved)"),
        ("resolved", "new", "allowed: 整改中 (in_progress), 核查结案 (closed)"),
        ("new", "new", "allowed: 已派遣 (dispatched), 不予立案 (rejected)"),
    ],
)
def test_disallowed_transitions_raise_listing_the_allowed_targets(current, target, allowed):
    with pytest.raises(ValueError, match=re.escape(allowed)):
        check_transition(current, target)


@pytest.mark.parametrize("terminal", ["closed", "rejected"])
def test_closed_and_rejected_are_terminal(terminal):
    assert TRANSITIONS[terminal] == frozenset()
    for target in STATUSES:
        with pytest.raises(ValueError, match="allowed: none"):
            check_transition(terminal, target)


@pytest.mark.parametrize(("current", "target"), [("bogus", "new"), ("new", "已派遣")])
def test_unknown_status_codes_are_refused(current, target):
    with pytest.raises(ValueError, match="unknown status"):
        check_transition(current, target)


def test_rework_is_only_resolved_back_to_in_progress():
    assert is_rework("resolved", "in_progress")
    check_transition("resolved", "in_progress")
    pairs = [(c, t) for c in STATUSES for t in STATUSES if (c, t) != ("resolved", "in_progress")]
    assert not any(is_rework(c, t) for c, t in pairs)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("待处理", "new"),
        ("未处理", "new"),
        ("待派遣", "new"),
        ("已派单", "dispatched"),
        ("已派遣", "dispatched"),
        ("处理中", "in_progress"),
        ("办理中", "in_progress"),
        ("整改中", "in_progress"),
        ("已办结", "resolved"),
        ("已处理", "resolved"),
        ("已整改", "resolved"),
        ("已结案", "closed"),
        ("结案", "closed"),
        ("已关闭", "closed"),
        ("核查结案", "closed"),
        ("无效", "rejected"),
        ("不予立案", "rejected"),
        ("退回", "rejected"),
        ("In progress", "in_progress"),
        ("CLOSED", "closed"),
        ("\u3000已派单\u3000", "dispatched"),
    ],
)
def test_status_words_from_12345_resolve(word, status):
    assert resolve_statuses([word]).tolist() == [status]


def test_every_status_code_and_name_resolves_and_unknown_is_none():
    names = [name for status in STATUSES for name in (status, *STATUS_NAMES[status])]
    expected = [status for status in STATUSES for _ in range(3)]
    assert resolve_statuses(names).tolist() == expected
    assert resolve_statuses(["挂起", None, ""]).tolist() == [None, None, None]


# --- sources ---------------------------------------------------------------------------


def test_source_codes_and_names_resolve():
    for code, (zh, en) in SOURCES.items():
        assert resolve_sources([code, zh, en, f"\u3000{zh} "]).tolist() == [code] * 4


@pytest.mark.parametrize(
    ("word", "source"),
    [
        ("12345", "hotline"),
        ("12345热线", "hotline"),
        ("网格员", "patrol"),
        ("执法检查", "enforcement"),
        ("群众举报", "resident"),
        ("督查", "inspection"),
        ("电话", None),
    ],
)
def test_source_variants_resolve(word, source):
    assert resolve_sources([word]).tolist() == [source]


def test_docstring_examples_hold():
    result = doctest.testmod(taxonomy, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
