"""Tuning tables of the demo town: shares, weights, hour and day profiles, deadlines, odds."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Community kinds that drive where problems happen, with their Chinese labels.
COMMUNITY_KINDS: dict[str, str] = {
    "old": "老旧小区",
    "new": "新建小区",
    "fringe": "城乡结合部",
    "commercial": "商业/市场/交通",
}
#: The kinds in the order of the per-kind tables below (and of kind indexes).
KINDS = tuple(COMMUNITY_KINDS)

# --- the town ---------------------------------------------------------------------------------

# Roughly where 西红门镇 is: the north edge of the district, next to Fengtai.
TOWN_CENTRE = (116.335, 39.772)
TOWN_AREA_RANGE_M2 = (25e6, 35e6)
DISTRICT_MARGIN_M = 100.0
# Footprints and hotspot centres stay this far inside the town so that they never cross it.
INNER_MARGIN_M = 40.0
DAY = 86_400.0
HOUR = 3_600.0
PERIOD_DAYS = 365

# --- the street network -----------------------------------------------------------------------

# Distance from the centre line to the building line, by street kind (metres).
HALF_WIDTH = np.array([16.0, 10.0, 6.0])

# --- reports: how much, where, when -----------------------------------------------------------

#: Share of all reports by layer (headline layers well above 8% each).
LAYER_SHARE = {
    "zombie_cars": 0.13,
    "illegal_construction": 0.13,
    "ad_posting": 0.14,
    "garbage": 0.18,
    "street_order": 0.12,
    "parking": 0.08,
    "fire_safety": 0.06,
    "dogs": 0.05,
    "greenery": 0.04,
    "construction_site": 0.03,
    "facilities": 0.04,
}
DEFAULT_LAYER_SHARE = 0.02

#: Relative frequency of categories within their layer (default 1).
CATEGORY_WEIGHT = {
    "abandoned_vehicle": 3.0,
    "abandoned_bicycle": 2.0,
    "illegal_structure": 3.0,
    "green_encroachment": 1.2,
    "private_parking_lock": 1.5,
    "wall_opening": 1.2,
    "ad_posting": 3.0,
    "ad_spraying": 1.5,
    "ad_leafleting": 1.2,
    "illegal_signboard": 1.2,
    "garbage_dumping": 3.0,
    "exposed_garbage": 2.0,
    "overflowing_bin": 1.5,
    "corridor_clutter": 1.5,
    "waste_sorting": 1.2,
    "bulky_waste": 1.2,
    "renovation_waste": 1.2,
    "river_litter": 0.4,
    "leaf_burning": 0.5,
    "outside_store_business": 3.0,
    "street_vending": 2.0,
    "piled_goods": 2.0,
    "mobile_vendor": 1.5,
    "illegal_parking": 3.0,
    "bicycle_parking": 1.5,
    "machinery_parking": 0.5,
    "fire_lane_blocked": 2.0,
    "flying_wire_charging": 2.0,
    "dog_fouling": 2.0,
    "dog_unleashed": 1.5,
    "snow_ice": 0.6,
    "fallen_tree": 0.6,
    "waterlogging": 0.6,
}

#: How much more often a layer's problems happen in each community kind
#: (old, new, fringe, commercial).
KIND_FACTOR = {
    "zombie_cars": (3.0, 1.0, 1.0, 0.7),
    "illegal_construction": (1.0, 0.3, 4.0, 0.6),
    "ad_posting": (1.5, 0.8, 0.8, 3.0),
    "garbage": (1.5, 0.6, 2.5, 2.0),
    "street_order": (1.0, 0.5, 1.5, 3.0),
    "parking": (2.0, 1.0, 0.8, 2.0),
    "fire_safety": (3.0, 0.8, 1.5, 0.8),
    "dogs": (1.0, 2.0, 1.0, 0.5),
    "greenery": (1.0, 1.5, 0.8, 0.8),
    "construction_site": (0.3, 2.0, 2.0, 0.8),
    "facilities": (1.0, 1.0, 1.0, 1.0),
}
DEFAULT_KIND_FACTOR = (1.0, 1.0, 1.0, 1.0)

#: Background placement: share inside communities, along streets, inside storefront zones.
MODE_SHARE = {
    "zombie_cars": (0.75, 0.25, 0.0),
    "illegal_construction": (0.85, 0.10, 0.05),
    "ad_posting": (0.20, 0.50, 0.30),
    "garbage": (0.55, 0.25, 0.20),
    "street_order": (0.0, 0.55, 0.45),
    "parking": (0.35, 0.65, 0.0),
    "fire_safety": (1.0, 0.0, 0.0),
    "dogs": (0.75, 0.25, 0.0),
    "greenery": (0.70, 0.30, 0.0),
    "construction_site": (1.0, 0.0, 0.0),
    "facilities": (0.30, 0.70, 0.0),
}
DEFAULT_MODE_SHARE = (0.6, 0.4, 0.0)
#: Categories that are mostly a shop's doing (门前三包): placed in storefront zones.
ZONE_CATEGORIES = frozenset(
    {
        "outside_store_business",
        "unlicensed_business",
        "piled_goods",
        "wall_opening",
        "illegal_ramp",
        "illegal_signboard",
        "sidewalk_ad_board",
        "damaged_signboard",
        "kitchen_grease",
        "sewage_overflow",
        "outdoor_bbq",
    }
)
ZONE_MODE_SHARE = (0.10, 0.35, 0.55)

#: Planted persistent hotspots per layer: (min, max) count, anchors, radius range (m), share.
HOTSPOT_PLAN: dict[str, tuple[tuple[int, int], tuple[str, ...], tuple[float, float], float]] = {
    "zombie_cars": ((3, 5), ("old",), (100.0, 180.0), 0.45),
    "illegal_construction": ((3, 5), ("fringe",), (150.0, 250.0), 0.45),
    "ad_posting": (
        (4, 5),
        ("transit", "market", "transit", "transit", "market"),
        (70.0, 130.0),
        0.45,
    ),
    "garbage": ((3, 4), ("market", "fringe", "old", "market"), (90.0, 160.0), 0.30),
    "street_order": ((3, 4), ("zone",), (90.0, 150.0), 0.35),
    "parking": ((2, 2), ("commercial", "old"), (100.0, 160.0), 0.30),
    "fire_safety": ((2, 2), ("old",), (90.0, 150.0), 0.30),
    "dogs": ((2, 2), ("new",), (100.0, 160.0), 0.25),
    "greenery": ((1, 1), ("new",), (100.0, 160.0), 0.25),
    "construction_site": ((1, 1), ("fringe",), (120.0, 180.0), 0.30),
    "facilities": ((1, 1), ("commercial",), (100.0, 160.0), 0.20),
}
EMERGING_OPTIONS = (
    ("ad_posting", "transit"),
    ("illegal_construction", "fringe"),
    ("street_order", "zone"),
    ("garbage", "fringe"),
    ("parking", "commercial"),
)
FADING_OPTIONS = (
    ("zombie_cars", "old"),
    ("garbage", "market"),
    ("street_order", "zone"),
    ("ad_posting", "market"),
    ("illegal_construction", "fringe"),
)
N_EMERGING = 3
HOTSPOT_APART_M = 700.0  # between the centres of two hotspots of one layer
N_FADING = 3
TREND_SHARE = 0.015  # of all reports, per emerging or fading hotspot
EMERGING_DAYS = 56
FADING_GONE_DAYS = 90
# Share of a hotspot's reports put inside storefront zones near it, by anchor.
ANCHOR_ZONE_SHARE = {"zone": 0.6, "market": 0.25, "transit": 0.15}

#: Source mix per layer, in the order hotline, patrol, enforcement, resident, inspection.
SOURCE_MIX = {
    "zombie_cars": (0.50, 0.25, 0.05, 0.15, 0.05),
    "illegal_construction": (0.35, 0.30, 0.20, 0.05, 0.10),
    "ad_posting": (0.45, 0.20, 0.15, 0.15, 0.05),
    "garbage": (0.50, 0.25, 0.03, 0.15, 0.07),
    "street_order": (0.45, 0.30, 0.15, 0.05, 0.05),
    "parking": (0.55, 0.20, 0.10, 0.12, 0.03),
    "fire_safety": (0.45, 0.30, 0.10, 0.08, 0.07),
    "dogs": (0.60, 0.15, 0.02, 0.20, 0.03),
    "greenery": (0.40, 0.35, 0.05, 0.10, 0.10),
    "construction_site": (0.45, 0.25, 0.15, 0.05, 0.10),
    "facilities": (0.50, 0.30, 0.02, 0.10, 0.08),
}
#: Evening problems are called in or met by evening operations, not by day patrols.
CATEGORY_SOURCE_MIX = {
    "outdoor_bbq": (0.60, 0.05, 0.20, 0.15, 0.0),
    "mobile_vendor": (0.55, 0.10, 0.20, 0.15, 0.0),
    "leaf_burning": (0.60, 0.10, 0.10, 0.20, 0.0),
}
SOURCE_ORDER = ("hotline", "patrol", "enforcement", "resident", "inspection")
DEFAULT_SOURCE_MIX = (0.45, 0.27, 0.09, 0.12, 0.07)

# Day-of-week weights (Monday first): 12345 calls pile up after the weekend, patrols work weekdays.
DOW_WEIGHT = {
    "hotline": (1.0, 0.93, 0.8, 0.76, 0.72, 0.52, 0.55),
    "patrol": (1.0, 1.0, 1.0, 1.0, 1.0, 0.12, 0.08),
    "enforcement": (1.0, 1.0, 1.0, 1.0, 0.95, 0.25, 0.15),
    "resident": (0.8, 0.8, 0.8, 0.8, 0.85, 1.0, 1.0),
    "inspection": (1.0, 1.0, 1.0, 1.0, 0.9, 0.0, 0.0),
}


def _hours(spans: dict[tuple[int, int], float], base: float) -> NDArray[np.float64]:
    weights = np.full(24, base)
    for (first, last), value in spans.items():
        weights[first : last + 1] = value
    return weights


# Hour-of-day profiles of when a problem shows (layer or category) and when a source reports.
HOUR_PROFILE = {
    "day": _hours({(0, 5): 0.08, (6, 6): 0.4, (22, 23): 0.4}, 1.0),
    "ad": _hours({(0, 1): 0.8, (2, 3): 0.4, (4, 7): 1.0, (20, 23): 0.9}, 0.2),
    "evening": _hours({(0, 1): 0.6, (16, 16): 0.2, (17, 23): 1.0}, 0.05),
    "trade": _hours({(0, 5): 0.03, (6, 9): 0.6, (17, 22): 1.0, (23, 23): 0.3}, 0.5),
    "dog": _hours({(0, 5): 0.05, (6, 8): 1.0, (17, 21): 1.0, (22, 23): 0.3}, 0.3),
    "garbage": _hours({(0, 5): 0.1, (6, 9): 0.9, (17, 21): 1.0, (22, 23): 0.4}, 0.6),
    "work": _hours({(7, 18): 1.0, (19, 23): 0.1}, 0.02),
}
LAYER_HOURS = {
    "ad_posting": "ad",
    "street_order": "trade",
    "garbage": "garbage",
    "dogs": "dog",
    "construction_site": "work",
}
CATEGORY_HOURS = {
    "outdoor_bbq": "evening",
    "mobile_vendor": "evening",
    "leaf_burning": "evening",
    "ad_leafleting": "day",
    "illegal_signboard": "day",
    "damaged_signboard": "day",
    "sidewalk_ad_board": "trade",
}
ALWAYS_OPEN_FLOOR = 0.3
SOURCE_HOURS = {
    "hotline": _hours(
        {(0, 6): 0.05, (7, 7): 0.5, (12, 13): 0.8, (18, 21): 0.7, (22, 23): 0.25}, 1.0
    ),
    "resident": _hours({(0, 5): 0.03, (6, 8): 0.6, (22, 23): 0.4}, 1.0),
    "patrol": _hours({(8, 11): 1.0, (12, 12): 0.4, (13, 16): 1.0, (17, 17): 0.5}, 0.0),
    "inspection": _hours({(9, 11): 1.0, (14, 16): 1.0}, 0.0),
    # and early-morning and evening operations (早查、夜查)
    "enforcement": _hours(
        {(5, 7): 0.4, (8, 11): 1.0, (12, 12): 0.4, (13, 16): 1.0, (19, 22): 0.5}, 0.0
    ),
}

#: Month weights (January first) of seasonal categories.
SEASON = {
    "snow_ice": (1, 1, 0.15, 0, 0, 0, 0, 0, 0, 0, 0.15, 1),
    "leaf_burning": (0.05, 0.05, 0.4, 0.4, 0.05, 0.05, 0.05, 0.05, 0.05, 1, 1, 0.5),
    "waterlogging": (0, 0, 0, 0, 0.05, 0.4, 1, 1, 0.3, 0, 0, 0),
    "fallen_tree": (0.3, 0.3, 0.15, 0.15, 0.3, 1, 1, 1, 0.3, 0.15, 0.15, 0.3),
    "outdoor_bbq": (0.1, 0.1, 0.1, 0.5, 1, 1, 1, 1, 1, 0.5, 0.1, 0.1),
    "construction_dust": (0.4, 0.5, 1, 1, 1, 0.6, 0.5, 0.5, 0.6, 0.6, 0.5, 0.4),
    "bare_soil": (0.4, 0.5, 1, 1, 0.6, 0.4, 0.4, 0.4, 0.4, 0.5, 0.5, 0.4),
    "dog_fouling": (0.8, 0.8, 1, 1, 1, 1, 1, 1, 1, 1, 0.9, 0.8),
}

# --- the workflow -----------------------------------------------------------------------------

#: Deadline (限期整改) in days, by layer and by category.
DEADLINE_DAYS = {
    "ad_posting": 3,
    "garbage": 3,
    "parking": 3,
    "street_order": 5,
    "dogs": 5,
    "fire_safety": 5,
    "construction_site": 5,
    "facilities": 7,
    "greenery": 10,
    "zombie_cars": 15,
    "illegal_construction": 15,
}
CATEGORY_DEADLINE_DAYS = {"snow_ice": 1, "waterlogging": 1, "fallen_tree": 1, "overflowing_bin": 1}
DEFAULT_DEADLINE_DAYS = 7
STUCK_PROBABILITY = {"illegal_construction": 0.18, "zombie_cars": 0.10}
DEFAULT_STUCK_PROBABILITY = 0.05
REJECT_PROBABILITY = {"hotline": 0.07, "resident": 0.08}
DEFAULT_REJECT_PROBABILITY = 0.015
DISPATCH_HOURS = {"hotline": 2.0, "resident": 3.0, "patrol": 0.5, "enforcement": 0.3}
SLOW_DISPATCH_PROBABILITY = 0.06
REWORK_PROBABILITY = 0.07
RELAPSE_SHARE = 0.04
DUPLICATE_SHARE = 0.03
RELAPSE_DISTANCE_M = 20.0  # below the 30 m definition
DUPLICATE_DISTANCE_M = 12.0  # below the 20 m definition
DUPLICATE_WINDOW_H = 20.0  # below the 24 h definition

# A report's path through the workflow: one column per possible event.
NORMAL_PATH = ("new", "dispatched", "in_progress", "resolved", "in_progress", "resolved", "closed")
CLOSED_COLUMN = 6

# --- storefront zones -------------------------------------------------------------------------

LICENCE_STATUSES = ("valid", "expired", "none")
