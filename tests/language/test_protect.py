"""Formulas, ids, links and kept runs pass a translation model as placeholders (R1 #3)."""

from __future__ import annotations

import pytest

from dltheory_digest.language.protect import Protected, protect


@pytest.mark.parametrize(
    ("text", "masked", "spans"),
    [
        (
            "关于 $O(1/\\sqrt{T})$ 收敛率 \\(\\eta \\le 1/L\\) 的证明",
            "关于 [1] 收敛率 [2] 的证明",
            ["$O(1/\\sqrt{T})$", "\\(\\eta \\le 1/L\\)"],
        ),
        ("公式 \\[ \\sum_i x_i \\] 与 $$a+b$$", "公式 [1] 与 [2]", ["\\[ \\sum_i x_i \\]", "$$a+b$$"]),
        (
            "见 arXiv:2106.10165v2 和 https://arxiv.org/abs/2106.10165。",
            "见 [1] 和 [2]。",
            ["arXiv:2106.10165v2", "https://arxiv.org/abs/2106.10165"],
        ),
        ("see 2106.10165 and hep-th/9711200.", "see [1] and [2].", ["2106.10165", "hep-th/9711200"]),
        (
            "doi 10.1145/3446776, mail a.b@example.org",
            "doi [1], mail [2]",
            ["10.1145/3446776", "a.b@example.org"],
        ),
        ("call `fit()` now", "call [1] now", ["`fit()`"]),
        ("costs $5 and $10", "costs $5 and $10", []),  # money, not maths
        ("no spans here", "no spans here", []),
    ],
)
def test_spans_become_numbered_placeholders(text: str, masked: str, spans: list[str]) -> None:
    protected = protect(text)
    assert protected.text == masked
    assert [span for _, span in protected.spans] == spans
    assert protected.restore(protected.text) == text


# Chinese is written with no space around a link or an id, and Arabic glues its prefixes to the
# next word; Python's \w counts both scripts as word characters (R5 #1).
@pytest.mark.parametrize(
    ("text", "masked", "spans"),
    [
        (
            "链接https://arxiv.org/abs/2106.10165的证明部分",
            "链接[1]的证明部分",
            ["https://arxiv.org/abs/2106.10165"],
        ),
        ("邮箱abc@xyz.com联系", "邮箱[1]联系", ["abc@xyz.com"]),
        ("本文2106.10165v2给出了界", "本文[1]给出了界", ["2106.10165v2"]),
        ("引用10.1145/3292500.3330701", "引用[1]", ["10.1145/3292500.3330701"]),
        ("见arXiv:2106.10165中的2个定理", "见[1]中的2个定理", ["arXiv:2106.10165"]),
        ("见arXiv：math/0309136的附录", "见[1]的附录", ["arXiv：math/0309136"]),
        ("论文 2106.10165中给出3个界", "论文 [1]中给出3个界", ["2106.10165"]),
        ("早年hep-th/9711200的结果", "早年[1]的结果", ["hep-th/9711200"]),
        ("主页www.example.org/notes，欢迎讨论", "主页[1]，欢迎讨论", ["www.example.org/notes"]),
        ("（见https://example.org/a）", "（见[1]）", ["https://example.org/a"]),
        (
            "انظرhttps://arxiv.org/abs/2106.10165للتفاصيل",
            "انظر[1]للتفاصيل",
            ["https://arxiv.org/abs/2106.10165"],
        ),
        ("الورقة2106.10165v2تثبت الحد", "الورقة[1]تثبت الحد", ["2106.10165v2"]),
        ("راسلوا abc@xyz.comللمزيد", "راسلوا [1]للمزيد", ["abc@xyz.com"]),
        ("المرجع10.1145/3292500.3330701، ص 3", "المرجع[1]، ص 3", ["10.1145/3292500.3330701"]),
        ("وarXiv:2106.10165 أيضا", "و[1] أيضا", ["arXiv:2106.10165"]),
        # a link keeps accented Latin letters, which languages with spaces write inside paths
        (
            "voir https://fr.wikipedia.org/wiki/Réseau_de_neurones ici",
            "voir [1] ici",
            ["https://fr.wikipedia.org/wiki/Réseau_de_neurones"],
        ),
        ("arXiv:2106.101651 is no id", "arXiv:2106.101651 is no id", []),
    ],
)
def test_a_link_or_id_written_against_chinese_or_arabic_takes_none_of_it(
    text: str, masked: str, spans: list[str]
) -> None:
    protected = protect(text)
    assert protected.text == masked
    assert [span for _, span in protected.spans] == spans
    assert protected.restore(protected.text) == text


def test_a_citation_in_the_text_keeps_its_number() -> None:
    protected = protect("as shown in [1] and [3], $x^2$ grows like $y$ and $z$")
    assert protected.text == "as shown in [1] and [3], [2] grows like [4] and [5]"
    assert protected.restore("如 [1] 和 [3] 所示,[2] 像 [4] 与 [5] 增长") == (
        "如 [1] 和 [3] 所示,$x^2$ 像 $y$ 与 $z$ 增长"
    )


@pytest.mark.parametrize("bracketed", ["[2023]", "[9999]", "[123456]", "【2024】"])
def test_a_bracketed_year_or_large_number_leaves_placeholders_small(bracketed: str) -> None:
    # R5 #7: numbering after the largest bracketed number made "[2024]" (read as a year) or
    # "[10000]" (never restored)
    protected = protect(f"NeurIPS {bracketed} 论文 $x^2$")
    assert protected.text == f"NeurIPS {bracketed} 论文 [1]"
    assert protected.restore(f"NeurIPS {bracketed} paper [1]") == f"NeurIPS {bracketed} paper $x^2$"


def test_a_placeholder_of_any_width_is_restored() -> None:
    text = " ".join(f"${i}x$" for i in range(1, 10_002))  # 10,001 formulas: placeholders up to [10001]
    protected = protect(text)
    assert protected.spans[-1] == (10_001, "$10001x$")
    assert protected.restore(protected.text) == text


@pytest.mark.parametrize(
    "output",
    ["The bound [1] holds", "The bound [ 1 ] holds", "The bound 【1】 holds", "The bound ［1］ holds"],
)
def test_a_placeholder_the_model_respaced_or_widened_is_restored_once(output: str) -> None:
    protected = protect("界 $O(1/\\sqrt{n})$ 成立")
    assert protected.restore(output) == "The bound $O(1/\\sqrt{n})$ holds"


def test_a_span_the_model_dropped_is_appended_not_lost() -> None:
    protected = protect("关于 $x$ 的证明，见 https://example.org/p")
    assert protected.restore("Proof about [1]") == "Proof about $x$ (https://example.org/p)"


def test_kept_ranges_pass_as_written_and_the_longest_range_wins() -> None:
    text = "论文 ℓ₂-Regularized Nets with $\\ell_2$ 的解读"
    start = text.index("ℓ₂")
    end = text.index(" 的")
    protected = protect(text, keep=[(start, end)])
    assert protected.text == "论文 [1] 的解读"
    assert protected.restore("Notes on [1]") == "Notes on ℓ₂-Regularized Nets with $\\ell_2$"


def test_nothing_to_protect_is_the_text_itself() -> None:
    assert protect("纯文本") == Protected("纯文本")
    assert Protected("x").restore("y [1]") == "y [1]"
