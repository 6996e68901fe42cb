"""Text helpers of the digest: where long summaries and titles are cut, and inline LaTeX as text."""

from __future__ import annotations

import dataclasses
import re

import pytest

from dltheory_digest import digest as dg
from dltheory_digest.digest.html import render_html, render_plain_text
from dltheory_digest.digest.text import (
    MATH_SPAN,
    TITLE_MAX_CHARS,
    caps_title_cased,
    display_title,
    math_text,
    md_link,
    md_text,
    safe_url,
    summarize,
    tex_prose,
)
from tests.digest.test_build import _zh_edition, sample_inputs

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
    assert "误差为O(1/√n)，泛化" in md_text(kept)


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


# --- inline LaTeX shown as Unicode text -----------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "shown"),
    [
        (r"$\ell_2$", "ℓ₂"),
        (r"$O(n^{k-1}\log n)$", "O(nᵏ⁻¹ log n)"),
        (r"$\mathbb{R}^d$", "ℝᵈ"),
        (r"$m=\tilde{O}(n^{k})$", "m = Õ(nᵏ)"),
        (r"$O(1/\sqrt{n})$", "O(1/√n)"),
        (r"$\frac{1}{2}$", "1/2"),
        (r"$\frac{k-1}{2}$", "(k−1)/2"),
        (r"$\frac{\log n}{n}$", "(log n)/n"),
        (r"$\sqrt{d\log n}$", "√(d log n)"),
        (r"$\epsilon \leq \delta\cdot\infty$", "ϵ ≤ δ·∞"),
        (r"$\{\pm 1\}^n$", "{±1}ⁿ"),
        (r"$\sum_{i=1}^n x_i$", "∑ᵢ₌₁ⁿ xᵢ"),
        (r"$\|w\|_2$", "‖w‖₂"),
        (r"$x \in\mathbb{R}^{d}$", "x ∈ ℝᵈ"),
        (r"$\mathcal{O}(1/\epsilon^2)$", "𝒪(1/ϵ²)"),
        (r"$W^\top W$", "WᵀW"),
        (r"$\hat\theta = X^\top y$", "θ̂ = Xᵀy"),
        (r"$\Omega(\sqrt{T})$", "Ω(√T)"),
        (r"$\mathbb{E}[f(x)]$", "𝔼[f(x)]"),
        (r"$\text{poly}(d)$", "poly(d)"),
        (r"\(\alpha n\)", "αn"),
    ],
)
def test_simple_inline_math_reads_as_text(formula: str, shown: str) -> None:
    assert math_text(formula) == shown


@pytest.mark.parametrize(
    ("formula", "shown"),
    [
        # latex2text alone gives "n^k-1/2" (a different formula): the group is written out
        (r"$n^{k-1/2}$", "n^(k−1/2)"),
        (r"$\nabla_{\theta} L$", "∇_θ L"),
        (r"$\Theta(n^{-1/2})$", "Θ(n^(−1/2))"),
        (r"$e^{x_i}$", "e^(xᵢ)"),
        (r"$\mathbb{E}_{x\sim\mathcal{D}}$", "𝔼_(x∼𝒟)"),
        (r"$2^{O(d)}$", "2^(O(d))"),
        (r"$L^q$", "L^q"),
    ],
)
def test_a_script_without_unicode_forms_is_written_out_unambiguously(formula: str, shown: str) -> None:
    assert math_text(formula) == shown


@pytest.mark.parametrize(
    ("formula", "shown"),
    [
        # something next to the fraction that binds tighter than "/": brackets keep its meaning
        (r"$a/\frac{b}{c}$", "a/(b/c)"),  # not "a/b/c" (= a/(bc))
        (r"$1/\frac{1}{2}$", "1/(1/2)"),
        (r"$\frac{a}{b}^2$", "(a/b)²"),  # not "a/b²"
        (r"$\frac{1}{2}x$", "(1/2)x"),  # not "1/2x" (= 1/(2x))
        (r"$\frac{1}{2}\|x\|^2$", "(1/2)‖x‖²"),
        (r"$\frac{1}{n}\sum_i x_i$", "(1/n)∑ᵢ xᵢ"),
        (r"$\frac{a}{b}\frac{c}{d}$", "(a/b)(c/d)"),
        (r"$\frac{d}{dt}\theta$", "(d/(dt))θ"),
        (r"$\frac{\frac{a}{b}}{c}$", "(a/b)/c"),
        (r"$\log\frac{1}{\delta}$", "log(1/δ)"),
        (r"$\frac{a}{b} \log n$", "(a/b) log n"),
        (r"$\frac{n}{2}!$", "(n/2)!"),
        # the whole formula, or between brackets, operators and relations: bare
        (r"$O(\frac{1}{\sqrt{n}})$", "O(1/√n)"),
        (r"$O\left(\frac{1}{\sqrt{n}}\right)$", "O(1/√n)"),
        (r"$a = \frac{b}{c} + 1$", "a = b/c + 1"),
        (r"$\frac{1}{2} \leq x$", "1/2 ≤ x"),
        (r"$-\frac{1}{2}$", "−1/2"),
        (r"$f(\frac{1}{2}, x)$", "f(1/2, x)"),
        (r"$e^{-\frac{t}{2}}$", "e^(−t/2)"),
        (r"$a \cdot \frac{b}{c}$", "a · b/c"),
    ],
)
def test_a_fraction_is_bracketed_unless_nothing_next_to_it_binds_tighter(formula: str, shown: str) -> None:
    assert math_text(formula) == shown


@pytest.mark.parametrize(
    "formula",
    [
        r"$\foo{x}$",  # a macro of the paper's own preamble
        r"$\begin{pmatrix}a\\b\end{pmatrix}$",
        r"$\overline{AB}$",  # a combining mark covers one letter, not two
        r"$\sqrt[k]{x}$",
        r"$\binom{n}{k}$",
        r"$x^$",
        r"$\today$",
        r"$a & b$",
        "$" + " + ".join(f"x_{i}" for i in range(30)) + "$",  # longer than a line
    ],
)
def test_math_without_a_faithful_text_form_stays_latex_in_a_code_span(formula: str) -> None:
    assert math_text(formula) is None
    assert md_text(f"Bound {formula} holds") == f"Bound `{formula}` holds"


def test_real_titles_read_as_text_in_markdown_html_and_plain_text() -> None:
    # Wu & Xu, NeurIPS 2020 (arXiv:2006.05800); Feldman, Kothari & Vondrák (arXiv:1404.4702)
    wu_xu = r"On the Optimal Weighted $\ell_2$ Regularization in Overparameterized Linear Regression"
    feldman = r"Tight Bounds on $\ell_1$ Approximation and Learning of Self-Bounding Functions"
    markdown = f"### {md_text(wu_xu)}\n\n{md_text(feldman)}\n"
    assert "On the Optimal Weighted ℓ₂ Regularization" in markdown
    assert "$" not in markdown and "`" not in markdown
    html = render_html(markdown)
    assert "Weighted ℓ₂ Regularization" in html and "Bounds on ℓ₁ Approximation" in html
    assert "<code" not in html
    assert "Weighted ℓ₂ Regularization" in render_plain_text(markdown)


def test_stars_and_underscores_of_a_formula_start_no_emphasis() -> None:
    text = r"the minimiser $x^*$ of $\mathcal{L}_*$ and $y^*$, with $\nabla_{\theta} f$ and $|x|<1$"
    markdown = md_text(text)
    assert markdown == r"the minimiser x\* of ℒ\_\* and y\*, with ∇\_θ f and \|x\| \< 1"
    html = render_html(f"{markdown}\n")
    assert "<em>" not in html and "<strong>" not in html and "<table" not in html
    assert "x* of ℒ_* and y*" in html and "|x| &lt; 1" in html
    assert render_plain_text(f"{markdown}\n") == "the minimiser x* of ℒ_* and y*, with ∇_θ f and |x| < 1\n"


def test_a_formula_at_a_line_start_is_no_list_or_heading() -> None:
    assert md_text(r"$-1$ is an eigenvalue") == "−1 is an eigenvalue"  # a minus sign, not a list dash
    assert md_text(r"$+1$ labels") == r"\+1 labels"


def test_the_stored_summary_keeps_its_latex_and_only_the_rendering_converts() -> None:
    abstract = (
        r"We show that online SGD learns $k$-sparse parities in $T = O(n^{k-1}\log n)$ steps. "
        r"The width needed is $m=\tilde{O}(n^{k})$. A third sentence."
    )
    summary = summarize(abstract)
    assert r"$T = O(n^{k-1}\log n)$" in summary and r"$m=\tilde{O}(n^{k})$" in summary
    assert md_text(summary) == (
        "We show that online SGD learns k-sparse parities in T = O(nᵏ⁻¹ log n) steps. "
        "The width needed is m = Õ(nᵏ)."
    )


def test_a_cut_title_keeps_its_formula_whole_then_converts_it() -> None:
    formula = r"$\tilde{O}(d^{3/2}/\epsilon^2)$"
    title = "w" * 150 + " " + "x" * 140 + formula + "y" * 40
    assert display_title(title) == "w" * 150 + "…"  # the cut falls in the formula: it goes before
    shorter = "Sample complexity " + formula + " for " + "two-layer networks " * 14
    shown = display_title(shorter)
    assert formula in shown and md_text(shown).startswith("Sample complexity Õ(d^(3/2)/ϵ²) for")


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        # a script opening a formula written against a word raises or lowers that word's end
        (r"Convergence under the PL$^*$ Condition", r"Convergence under the PL\* Condition"),
        (
            r"ReLU$^2$ Networks, A$^2$C, GPT$_{3}$, Adam$^+$ and Muon$^{2}$",
            "ReLU² Networks, A²C, GPT₃, Adam⁺ and Muon²",
        ),
        (r"Minimizers $\operatorname*{argmin}_x f(x)$ of f", "Minimizers argminₓ f(x) of f"),
        (r"Sums and $$\sum_i x_i$$ Displays", "Sums and ∑ᵢ xᵢ Displays"),
        (r"The error $\|\hat\beta - \beta^*\|_1$ is small", r"The error ‖β̂ − β\*‖₁ is small"),
        (r"Rates $\mathcal{O}(d^{\,2})$ and more", "Rates 𝒪(d²) and more"),
        # written apart from any word, a lone script has no base: kept as written
        (r"a $^2$ b", "a `$^2$` b"),
    ],
)
def test_formulas_shown_raw_or_with_stray_characters_read_as_text(text: str, markdown: str) -> None:
    assert md_text(text) == markdown


def test_a_script_attached_to_a_word_in_arabic_text_stays_with_it() -> None:
    # only a formula of its own is isolated: "ReLU²" is one word
    assert md_text(r"شبكات ReLU$^2$ و $O(n)$") == "شبكات ReLU² و \u2066O(n)\u2069"
    # a formula glued to an Arabic word is no script of it: isolated, its brackets stay in place
    assert md_text(r"الخطأ$O(1/\sqrt{n})$ و$O(n)$") == "الخطأ\u2066O(1/√n)\u2069 و\u2066O(n)\u2069"


@pytest.mark.parametrize(
    ("arxiv_wrote", "shown"),
    [
        (
            r"a Schr\"odinger-Bridge View of Erd\H{o}s--R\'enyi Graphs",
            "a Schrödinger-Bridge View of Erdős–Rényi Graphs",
        ),
        (r"Poincar\'e inequalities", "Poincaré inequalities"),
        (r"Schr\"{o}dinger and {\"o}", "Schrödinger and ö"),
        (r"Na\"{\i}ve Bayes, G\"odel, Ces\`aro, Fran\c{c}ois", "Naïve Bayes, Gödel, Cesàro, François"),
        (r"Bj\o rn and Stra\ss e", "Bjørn and Straße"),
        ("bounds --- sharp ones --- for 1--2 layers", "bounds — sharp ones — for 1–2 layers"),
        (r"improves by 5\% on A\&B", "improves by 5% on A&B"),
        # formulas are left to md_text, which shows them as text
        (r"Erd\H{o}s $\tilde{O}(n)$ and $a--b$", r"Erdős $\tilde{O}(n)$ and $a--b$"),
        ("no TeX at all", "no TeX at all"),
    ],
)
def test_tex_arxiv_writes_outside_formulas_reads_as_unicode(arxiv_wrote: str, shown: str) -> None:
    assert tex_prose(arxiv_wrote) == shown


def test_a_formula_in_arabic_text_is_isolated_left_to_right() -> None:
    shown = md_text(r"يكون الخطأ $O(1/\sqrt{n})$ بعد التدريب")
    assert shown == "يكون الخطأ \u2066O(1/√n)\u2069 بعد التدريب"
    assert "\u2066" not in md_text(r"the error is $O(1/\sqrt{n})$")


# --- bidi controls a source wrote -------------------------------------------------------------

EMBEDDINGS = re.compile("[\u202a-\u202e]")


def test_scraped_text_loses_embedding_and_override_controls_and_keeps_marks_and_joiners() -> None:
    assert md_text("Bound \u202egpj.exe\u202c holds") == "Bound gpj.exe holds"
    assert md_text("\u202a\u202b\u202d text") == "text"
    # LRM/RLM, ZWJ (emoji, Arabic) and ZWNJ (Persian) are the text's own
    kept = "من\u200cها \u200f(1)\u200e 👩\u200d🔬"
    assert md_text(kept) == kept
    # an isolate that closes nothing, or is never closed, would swallow the rest of the line
    assert md_text("a \u2067b") == "a b" and md_text("a\u2069 b") == "a b"
    # a pair contains itself: what the renderer wraps a date or a title in before escaping
    assert md_text("حتى \u20662026-11-24\u2069.") == "حتى \u20662026-11-24\u2069."
    assert display_title("\u2068Bound\u2069 \u202egpj.exe") == "Bound gpj.exe"


@pytest.mark.parametrize("language", ["en", "zh", "ar"])
def test_a_source_writing_an_override_reaches_no_part_of_the_mail(language: str) -> None:
    inputs = sample_inputs()
    first = inputs["clusters"][0]
    inputs["clusters"][0] = dataclasses.replace(
        first,
        paper=dataclasses.replace(
            first.paper, title="Bound \u202egpj.exe 深度学习 \u2067", authors=("A \u202eB",)
        ),
        sightings=tuple(
            dataclasses.replace(s, source_name=f"{s.source_name} \u202dX\u2069") for s in first.sightings
        ),
    )
    digest = dg.build_digest(**inputs)
    edition = dg.ENGLISH if language == "en" else _zh_edition(digest, language)
    markdown = dg.render_markdown(digest, edition)
    parts = [
        markdown,
        dg.render_html(markdown, language=language),
        dg.render_plain_text(markdown, language=language),
    ]
    for part in parts:
        assert not EMBEDDINGS.search(part)
        assert "gpj.exe" in part and "A B" in part
    if language == "ar":  # the renderer's own isolates still work
        assert "\u2066" in markdown and '<span dir="ltr"' in parts[1]
    # every isolate left opens and closes within its line
    for line in markdown.splitlines():
        depth = 0
        for ch in line:
            depth += ch in "\u2066\u2067\u2068"
            depth -= ch == "\u2069"
            assert depth >= 0
        assert depth == 0


@pytest.mark.parametrize("url", ["http://a]b/", "http://[::1/", "https://[not-an-address]/x"])
def test_a_url_with_an_unparsable_host_is_no_link_rather_than_a_crash(url: str) -> None:
    """The render must be total: whatever a parser let through becomes plain text."""
    assert safe_url(url) is None
    assert md_link("a post", url) == "a post"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("FLAT MINIMA", "Flat Minima"),
        (
            "DEEP NETWORKS FROM THE PRINCIPLE OF RATE REDUCTION",
            "Deep Networks from the Principle of Rate Reduction",
        ),
        # acronyms stay, their plurals read as such, a prefix written apart is a word's
        ("TRAINING GANS AND DNNS WITH SGD", "Training GANs and DNNs with SGD"),
        ("PRE-TRAINING OF BERT", "Pre-Training of BERT"),
        ("RMS NORMS OF GPUS", "RMS Norms of GPUs"),
        # a title not all in capitals, or in another script, is left as written
        ("Flat Minima of ReLU nets", "Flat Minima of ReLU nets"),
        ("深度学习 FLAT MINIMA", "深度学习 Flat Minima"),
    ],
)
def test_a_title_written_in_capitals_is_title_cased(written: str, shown: str) -> None:
    assert caps_title_cased(written) == shown
