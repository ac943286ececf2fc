"""Masking reporter and responsible-person names and phones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot.privacy import mask_name, mask_phone


def test_mask_name_keeps_the_first_character_and_stars_the_rest():
    names = ["张三", "欧阳娜娜", "张先生", " 李四 ", "Li Wei"]
    assert mask_name(names).tolist() == ["张*", "欧***", "张**", "李*", "L*****"]


def test_mask_name_hides_a_one_character_name_entirely():
    assert mask_name(["王"]).tolist() == ["*"]


def test_mask_name_keeps_empty_as_empty_and_missing_as_missing():
    assert mask_name(["", None, np.nan]).tolist() == ["", None, None]


def test_mask_phone_keeps_first_three_and_last_four_digits_of_a_mobile():
    phones = ["13812345678", "138 1234 5678", "138-1234-5678", "+86 13812345678", "008613812345678"]
    assert mask_phone(phones).tolist() == ["138****5678"] * 5


def test_mask_phone_keeps_only_the_last_four_digits_of_other_numbers():
    phones = ["010-87654321", "(010)87654321", "87654321", "138123456789", "23456789012"]
    assert mask_phone(phones).tolist() == [
        "****4321",
        "****4321",
        "****4321",
        "****6789",
        "****9012",
    ]


def test_mask_phone_hides_short_numbers_and_text_completely():
    assert mask_phone(["1234", "12", "无"]).tolist() == ["****", "****", "****"]


def test_mask_phone_keeps_empty_as_empty_and_missing_as_missing():
    assert mask_phone(["", None, np.nan]).tolist() == ["", None, None]


def test_masks_keep_the_series_index_and_leave_no_digit_run_of_the_original():
    phones = pd.Series(["13912345678", "010-66668888"], index=[7, 3])
    masked = mask_phone(phones)
    assert masked.index.tolist() == [7, 3]
    assert masked.tolist() == ["139****5678", "****8888"]
    assert mask_name(pd.Series(["张三"], index=[5])).index.tolist() == [5]
    assert "12345678" not in "".join(masked)


def test_masks_of_an_empty_series_are_empty():
    assert mask_phone(pd.Series([], dtype=object)).empty
    assert mask_name([]).empty
