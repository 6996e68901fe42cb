"""Inline LaTeX as Unicode text (`dltheory_digest.mathtext`): the cases the digest showed raw or
with stray characters. The bulk of the layout rules is tested through `md_text` in
tests/digest/test_text.py."""

from __future__ import annotations

import pytest

from dltheory_digest.mathtext import MATH_SPAN, formulas_as_text, math_text


@pytest.mark.parametrize(
    ("formula", "shown"),
    [
        # the standard argmin with limits: the star is no character
        (r"$\operatorname*{argmin}_x f(x)$", "argminₓ f(x)"),
        (r"$\operatorname{Tr}(A)$", "Tr(A)"),
        # a display written inside a line
        (r"$$\sum_i x_i$$", "∑ᵢ xᵢ"),
        (r"$$\sum_{i=1}^n x_i \le n$$", "∑ᵢ₌₁ⁿ xᵢ ≤ n"),
        # the space pylatexenc gives to a macro (an accent's argument too) still spaces an operator
        (r"$\|\hat\beta - \beta^*\|_1$", "‖β̂ − β*‖₁"),
        (r"$\alpha - \beta$", "α − β"),
        (r"$\alpha \cdot \beta$", "α · β"),
        (r"$\alpha n$", "αn"),  # a product stays one term
        (r"$f(\alpha )$", "f(α)"),
        # spacing means nothing inside a script
        (r"$\mathcal{O}(d^{\,2})$", "𝒪(d²)"),
        (r"$x_{\;i}$", "xᵢ"),
        # a word in bold, sans-serif or typewriter is plain letters; one letter keeps its style
        (r"$\mathbf{not}$", "not"),
        (r"$\mathsf{TC}^0$", "TC⁰"),
        (r"$\mathtt{grad}$", "grad"),
        (r"$\mathbf{x}$", "𝐱"),
        (r"$\mathsf{A}$", "𝖠"),
        (r"$\mathbb{R}^d$", "ℝᵈ"),
    ],
)
def test_formulas_the_digest_showed_raw_read_as_text(formula: str, shown: str) -> None:
    assert MATH_SPAN.fullmatch(formula)
    assert math_text(formula) == shown


@pytest.mark.parametrize(
    ("formula", "shown"),
    [
        ("$^2$", "²"),  # ReLU$^2$
        ("$^*$", "*"),  # PL$^*$
        ("$_{3}$", "₃"),  # GPT$_{3}$
        ("$^+$", "⁺"),  # Adam$^+$
        (r"$^\pi$", "^π"),  # no superscript form: written out
    ],
)
def test_a_script_opening_a_formula_written_against_a_word_is_that_words(formula: str, shown: str) -> None:
    assert math_text(formula, attached=True) == shown
    assert math_text(formula) is None  # on its own it raises nothing


def test_the_outer_dollars_of_a_display_are_part_of_it() -> None:
    text = r"and $$\sum_i x_i$$ displays, costing $5 and $10"
    assert [m.group(0) for m in MATH_SPAN.finditer(text)] == [r"$$\sum_i x_i$$"]


def test_formulas_as_text_converts_each_formula_and_keeps_the_rest() -> None:
    assert (
        formulas_as_text(r"$\widetilde{O}(\sqrt{T})$ Regret with $\le d$ Features")
        == "Õ(√T) Regret with ≤ d Features"
    )
    assert formulas_as_text("Costs $5 and $10") == "Costs $5 and $10"  # prices are no formulas
    assert formulas_as_text(r"A $\begin{cases}x\end{cases}$ case") == r"A $\begin{cases}x\end{cases}$ case"
