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


def test_a_citation_in_the_text_keeps_its_number() -> None:
    protected = protect("as shown in [2], $x^2$ grows")
    assert protected.text == "as shown in [2], [3] grows"
    assert protected.restore("如 [2] 所示,[3] 增长") == "如 [2] 所示,$x^2$ 增长"


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
