"""Text helpers of the digest: where long summaries and titles are cut."""

from __future__ import annotations

import pytest

from dltheory_digest.digest.text import MATH_SPAN, TITLE_MAX_CHARS, display_title, md_text, summarize

FORMULA = r"$O(1/\sqrt{n})$"


@pytest.mark.parametrize("before", [TITLE_MAX_CHARS - 3, TITLE_MAX_CHARS - 10])
def test_a_title_without_spaces_is_cut_before_a_formula_the_limit_falls_in(before: int) -> None:
    title = "深" * before + FORMULA + "度" * 50  # the 300-character limit falls inside the formula
    shown = display_title(title)
    assert shown == "深" * before + "…"
    assert "\x00" not in shown


def test_a_title_that_is_mostly_one_formula_keeps_it_whole() -> None:
    formula = "$" + "x" * 296 + "$"  # from the 3rd character past the limit
    shown = display_title("定理" + formula + "的证明" * 20)
    assert shown == "定理" + formula + "…"


def test_a_chinese_summary_keeps_its_formula_whole_or_leaves_it_out() -> None:
    abstract = "深度学习" * 117 + "误差为" + FORMULA + "，" + "泛化" * 60 + "。第二句。"
    summary = summarize(abstract)
    assert summary.endswith("…") and "\x00" not in summary
    assert summary == "深度学习" * 117 + "误差为…"
    # the formula that fits is kept whole, and reads as a formula in the Markdown
    shorter = "深度学习" * 100 + "误差为" + FORMULA + "，" + "泛化" * 60 + "。"
    kept = summarize(shorter)
    assert FORMULA in kept and len(kept) <= 481
    assert f"`{FORMULA}`" in md_text(kept)


def test_a_space_inside_a_formula_is_no_place_to_cut() -> None:
    formula = "$a + b + c + d$"
    assert MATH_SPAN.fullmatch(formula)
    title = "w" * 150 + " " + "x" * 140 + formula + "y" * 40
    shown = display_title(title)
    assert shown == "w" * 150 + "…"


def test_text_with_spaces_is_cut_at_a_word() -> None:
    shown = display_title("deep learning theory " * 30)
    assert shown.endswith("theory…") or shown.endswith("learning…") or shown.endswith("deep…")
    assert len(shown) <= TITLE_MAX_CHARS
