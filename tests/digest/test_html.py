"""The email's HTML part: language spans of a Chinese or Arabic edition, the mail's CSS."""

from __future__ import annotations

import html
import re

import pytest

from dltheory_digest import digest as dg
from dltheory_digest.digest.html import email_styles, render_html, render_plain_text
from dltheory_digest.digest.render import labels_for
from tests.digest.test_build import assert_inert, sample_digest

# English next to "<", ">", "&" or a no-break space: the runs end or start next to a character reference
ITEMS = [
    "Gradient descent for x > 0: 收敛",
    "当 x > 0 时收敛",
    "Neural nets\u00a0— 证明",
    "Q&A on neural nets 中文",
    "<img src=x onerror=alert(1)>, Mallory and Bob 中文",
]


@pytest.mark.parametrize("language", ["zh", "ar"])
def test_language_spans_never_cut_a_character_reference(language: str) -> None:
    markdown = "".join(
        f"- {item.replace('<', chr(92) + '<').replace('>', chr(92) + '>')}\n" for item in ITEMS
    )
    rendered = render_html(markdown, language=language)
    body = rendered.split("<body", 1)[1]
    assert '<span lang="en">' in body  # the English runs are tagged
    assert not re.search(r"&<span|&[#\w]*</span>|&\w*<span", body)
    shown = [html.unescape(re.sub(r"<[^>]*>", "", item)) for item in re.findall(r"<li[^>]*>(.*?)</li>", body)]
    assert shown == ITEMS


def test_a_long_unbroken_word_wraps_inside_the_digest() -> None:
    assert "overflow-wrap: anywhere" in email_styles()[".digest"]


@pytest.mark.parametrize("language", ["en", "zh", "ar"])
def test_each_pdf_link_says_which_paper_it_is_and_shows_pdf(language: str) -> None:
    html = render_html(dg.render_markdown(sample_digest()), language=language)
    links = re.findall(r'<a [^>]*href="https://arxiv\.org/pdf/([^"]+)"[^>]*>([^<]*)</a>', html)
    assert links and all(text == "PDF" for _, text in links)
    for arxiv_id, _ in links:
        assert f'title="PDF arXiv:{arxiv_id}" aria-label="PDF arXiv:{arxiv_id}">PDF</a>' in html
    assert_inert(html)
    # a Markdown link to a PDF written in scraped text is no link at all, and named by nothing
    hostile = render_html(dg.md_text('[PDF](https://arxiv.org/pdf/1" onmouseover=x)') + "\n")
    assert "aria-label" not in hostile and "<a " not in hostile


@pytest.mark.parametrize("language", ["en", "zh", "ar"])
def test_a_list_toggle_is_not_a_line_of_the_text_part(language: str) -> None:
    # the unconfirmed mentions follow an intro, not a bold line: the toggle's words ("Show the
    # list") would be a stray bold line in a part where the list is always shown
    toggle = labels_for(language)["below_toggle"]
    markdown = f"Intro to the list.\n\n<details>\n<summary>{toggle}</summary>\n\n- one\n- two\n\n</details>\n"
    text = render_plain_text(markdown, language=language)
    assert toggle not in text and "- one" in text and "Intro to the list." in text
    # a summary that names the list (a digest rendered before its bold line existed) stays
    kept = render_plain_text("<details>\n<summary>Below the threshold (2)</summary>\n\n- x\n</details>\n")
    assert "**Below the threshold (2)**" in kept


# isolates and language spans around formulas -------------------------------------------------------


def body_of(rendered: str) -> str:
    """The HTML body without its inline styles, as a reader's client lays it out."""
    return re.sub(r' style="[^"]*"', "", rendered.split("<body", 1)[1])


@pytest.mark.parametrize(
    ("markdown", "language", "span"),
    [
        # a formula isolated left to right in Arabic text (the Markdown's LRI…PDI)
        (dg.md_text(r"نظرية $O(1/\sqrt{T})$ تعلم"), "ar", '<span dir="ltr" lang="en">O(1/√T)</span>'),
        # the edition's own isolates: a date, an arXiv id
        ("حتى \u20662026-11-24\u2069.", "ar", '<span dir="ltr">2026-11-24</span>'),
        ("\u2066arXiv:2611.10001v1\u2069 · ملف", "ar", '<span dir="ltr" lang="en">arXiv:2611.10001v1</span>'),
        # in an English edition's Arabic quote, the formula's isolate is inside the Arabic span
        (dg.md_text(r"نظرية $O(1/\sqrt{T})$ تعلم"), "en", '<span dir="ltr">O(1/√T)</span> تعلم</span>'),
        # a right-to-left isolate as well
        ("x \u2067نص\u2069 y", "ar", '<span dir="rtl">نص</span>'),
    ],
)
def test_a_directional_isolate_is_an_element_in_the_html(markdown: str, language: str, span: str) -> None:
    body = body_of(render_html(markdown + "\n", language=language))
    assert span in body
    assert not re.search("[\u2066-\u2069]", body)


def test_an_isolate_holding_a_tag_keeps_its_characters() -> None:
    # a link inside an isolate cannot be wrapped in a span without cutting the element
    body = body_of(render_html("حتى \u2066[doi:10.1/x](https://doi.org/10.1/x)\u2069.\n", language="ar"))
    assert '\u2066<a href="https://doi.org/10.1/x"' in body


@pytest.mark.parametrize(
    ("markdown", "language", "english"),
    [
        # an English title with math reads in one voice, math symbols, Greek and scripts included
        (
            dg.md_text(r"Convergence of SGD at Rate $O(1/\sqrt{T})$ under the PL$^*$ Condition") + " 中文",
            "zh",
            "Convergence of SGD at Rate O(1/√T) under the PL* Condition",
        ),
        (
            dg.md_text(r"$\ell_1$-Regularized Linear Regression") + " 中文",
            "zh",
            "ℓ₁-Regularized Linear Regression",
        ),
        (
            dg.md_text(r"Heavy Tails: $\alpha$-Stable Noise [Re] in SGD") + " 中文",
            "zh",
            "Heavy Tails: α-Stable Noise [Re] in SGD",
        ),
        (
            dg.md_text(r"Bounds on $\mathbb{E}[\|x\|^2] \le \epsilon$ for Deep Nets") + " عربي",
            "ar",
            "Bounds on 𝔼[‖x‖²] ≤ ϵ for Deep Nets",
        ),
    ],
)
def test_an_english_run_continues_through_its_math(markdown: str, language: str, english: str) -> None:
    body = body_of(render_html(markdown + "\n", language=language))
    assert re.search(
        rf'<span (?:dir="ltr" )?lang="en">{re.escape(html.escape(english, quote=False))}</span>', body
    )


@pytest.mark.parametrize("language", ["zh", "ar"])
def test_long_runs_of_digits_or_letters_are_tagged_like_short_ones(language: str) -> None:
    # a start inside such a run used to rescan it to its end: 10,000 digits took 0.6 s per node
    digits, word = "1" * 10_000, "ab" * 5_000
    markdown = f"数字 {digits} deep nets 结束\n\nハッシュ {word} and more 结束\n\n{word} 结束\n"
    body = body_of(render_html(markdown, language=language))
    assert f'{digits} <span lang="en">deep nets</span>' in body
    assert f'<span lang="en">{word} and more</span>' in body
    # one word alone is a name, not an English run: the third paragraph's word is not tagged
    assert body.count(f'<span lang="en">{word}') == 1


@pytest.mark.parametrize("language", ["zh", "ar"])
def test_no_language_span_is_put_inside_code(language: str) -> None:
    markdown = dg.md_text(r"Bound ${\rm sign}(x)$ holds for deep nets") + " 中文\n"
    body = body_of(render_html(markdown, language=language))
    code = re.search(r"<code>(.*?)</code>", body)
    assert code and code.group(1) == r"${\rm sign}(x)$"
    assert '<span lang="en">holds for deep nets</span>' in body
