"""Title and name normalization: every form a source writes the same title in compares equal."""

from __future__ import annotations

import pytest

from dltheory_digest.identity import normalize_title
from dltheory_digest.identity.normalize import (
    TitleShape,
    clean_text,
    core_title,
    english_runs,
    followed_authors,
    is_latin,
    is_notice,
    markers_conflict,
    name_key,
    notice_kinds,
    numbered_series_tail,
    person_name,
    same_author,
    split_authors,
    surname,
    title_markers,
    title_shape,
    title_variants,
)

NTK = "neural tangent kernel convergence and generalization in neural networks"


@pytest.mark.parametrize(
    "raw",
    [
        "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        "NEURAL TANGENT KERNEL - CONVERGENCE AND GENERALIZATION IN NEURAL NETWORKS",
        "Neural Tangent Kernel:\nConvergence and Generali-\nzation in Neural Networks",  # hyphenation at a break
        "Neural  Tangent Kernel — Convergence and Generalization in Neural Networks (v2)",  # version marker
        "Ｎｅｕｒａｌ Tangent Kernel: Convergence and Generalization in Neural Networks",  # full-width (NFKC)
        "arXiv:1806.07572v3 Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
        r"\emph{Neural Tangent Kernel}: Convergence and Generalization in Neural Networks",
        "Neural Tangent Kernel&#58; Convergence and Generalization in Neural Networks",  # numeric entity
    ],
)
def test_title_forms_normalize_alike(raw: str) -> None:
    assert normalize_title(raw) == NTK


def test_latex_accents_math_and_html_entities() -> None:
    assert normalize_title(r"Schr\"odinger bridges and Poincar\'{e} inequalities") == (
        "schrodinger bridges and poincare inequalities"
    )
    assert normalize_title("Schrödinger bridges and Poincaré inequalities") == (
        "schrodinger bridges and poincare inequalities"
    )
    assert normalize_title(r"Learning $O(\sqrt{n})$-sparse networks") == "learning o sqrt n sparse networks"
    assert normalize_title("Lud&#228;scher &amp; Papakonstantinou") == "ludascher papakonstantinou"


@pytest.mark.parametrize(
    ("latex", "plain"),
    [
        ("{N}eural {T}angent {K}ernel", "Neural Tangent Kernel"),  # BibTeX's case protection
        ("On {ReLU} networks", "On ReLU networks"),
        (r"{\em Deep} neural networks", "Deep neural networks"),  # an old font switch
        (r"{\bf Deep} neural networks", "Deep neural networks"),
        (r"\textbf{Deep} neural networks", "Deep neural networks"),
        (r"{\"U}ber neural networks", "Über neural networks"),
        (r"$\ell_1$ {norm} bounds", "ℓ1 norm bounds"),
        (r"Learning $O(\sqrt{n})$-sparse networks", "Learning O(√n)-sparse networks"),
    ],
)
def test_latex_braces_and_font_switches_do_not_split_words(latex: str, plain: str) -> None:
    assert normalize_title(latex) == normalize_title(plain)


def test_core_title_drops_bracketed_remarks_only() -> None:
    assert core_title("DEVise (demo abstract): integrated querying of large datasets") == (
        "devise integrated querying of large datasets"
    )
    assert normalize_title("DEVise (demo abstract)") == "devise demo abstract"


@pytest.mark.parametrize(
    ("title", "core"),
    [
        # a bracket inside the title is one of its words, unless it holds a remark
        (
            "Understanding deep learning (still) requires rethinking generalization",
            "understanding deep learning still requires rethinking generalization",
        ),
        ("Support vector machines (SVMs) for text", "support vector machines for text"),
        ("Neural tangent kernel (NeurIPS'18): convergence", "neural tangent kernel convergence"),
        ("Neural tangent kernel [NeurIPS 2018]", "neural tangent kernel"),
        ("Deep nets (v2) generalize", "deep nets generalize"),
        ("[CITATION][C] Deep nets generalize (extended abstract)", "deep nets generalize"),
    ],
)
def test_core_title_keeps_bracketed_words_inside_a_title(title: str, core: str) -> None:
    assert core_title(title) == core


def test_english_title_embedded_in_chinese_line() -> None:
    line = "Recent advances in deep learning theory —— 一篇按六个方向整理的深度学习理论综述(2020)。"
    assert english_runs(line)[0] == "Recent advances in deep learning theory"
    assert title_variants(line) == ("recent advances in deep learning theory",)
    # a purely Chinese or Arabic title has no English form of its own
    assert title_variants("深度学习理论的最新进展") == ()
    assert title_variants("الرياضيات الحديثة للتعلم العميق") == ()


def test_part_and_edition_numbers() -> None:
    part1 = title_markers("Database tuning: principles, experiments and troubleshooting techniques (part I)")
    part2 = title_markers("Database tuning: principles, experiments and troubleshooting techniques (Part 2)")
    plain = title_markers("Database tuning: principles, experiments and troubleshooting techniques")
    assert part1 == {"p1"} and part2 == {"p2"}
    assert markers_conflict(part1, part2)
    assert markers_conflict(part1, plain)  # "Part I" is not the whole tutorial
    assert markers_conflict(title_markers("Workshop report 2000"), title_markers("Workshop report 2001"))
    # a number only one side writes ("SQL:1999 ... SQL3" vs "SQL:1999") is not a conflict
    assert not markers_conflict(title_markers("SQL:1999, formerly known as SQL3"), title_markers("SQL:1999"))
    assert not markers_conflict(
        title_markers("SQL:1999, formerly known as SQL 3"), title_markers("SQL:1999 formerly SQL3")
    )


def test_notices() -> None:
    assert is_notice("Erratum: A database model for object dynamics")
    assert is_notice("Corrigendum to 'Deep nets generalize'")
    assert not is_notice("A database model for object dynamics")
    # replies and COLT's open problems restate the title of the paper they are about
    assert is_notice('Comment on "Why does deep and cheap learning work so well?"')
    assert is_notice("Open Problem: The landscape of the loss surfaces of multilayer networks")
    assert is_notice("Response to a close look at the IFO data model")
    assert not is_notice("The Loss Surfaces of Multilayer Networks")
    assert not is_notice("Open problems in deep learning theory are many")


@pytest.mark.parametrize(
    ("title", "kinds"),
    [
        ("Author Correction: Neural tangent kernel", {"erratum"}),
        ("Publisher Correction: Neural tangent kernel", {"erratum"}),
        ("Correction: Neural tangent kernel", {"erratum"}),
        ("Correction to: Neural tangent kernel", {"erratum"}),
        ('Corrections to "Neural tangent kernel"', {"erratum"}),
        ("Correction for Bartlett et al. Benign Overfitting in Linear Regression", {"erratum"}),
        ("Correction for Bartlett and Long, Benign overfitting", {"erratum"}),
        ("Addendum: Neural tangent kernel", {"erratum"}),
        ("Addendum to 'Neural tangent kernel'", {"erratum"}),
        ("Expression of concern: Neural tangent kernel", {"expression of concern"}),
        ("Editorial Expression of Concern: Neural tangent kernel", {"expression of concern"}),
        # "correction" is also a word of titles: a label only at the start, before the paper's name
        ("Correction of errors in deep networks", set()),
        ("Error correction codes for neural networks", set()),
        ("Bias correction for kernel density estimators", set()),
        ("Correction for multiple testing in neural networks", set()),
        ("Correction for attenuation, revisited", set()),
    ],
)
def test_publishers_notice_labels(title: str, kinds: set[str]) -> None:
    assert notice_kinds(title) == kinds


def test_notice_kinds_tell_a_comment_from_the_reply_and_the_erratum() -> None:
    quoted = '"Why does deep and cheap learning work so well?"'
    assert notice_kinds(f"Comment on {quoted}") == {"comment"}
    assert notice_kinds(f"Reply to comment on {quoted}") == {"reply"}
    assert notice_kinds(f"Erratum: Comment on {quoted}") == {"erratum", "comment"}
    assert notice_kinds("Retraction notice: Deep nets generalize") == {"retraction"}
    assert notice_kinds("Why does deep and cheap learning work so well?") == frozenset()
    # a subtitle that starts like a reply is still a paper
    assert notice_kinds("Adversarial training: a response to distribution shift") == frozenset()


def test_numbers_spelled_out_are_numbers() -> None:
    two = title_markers(
        "Learning and Generalization in Overparameterized Neural Networks, Going Beyond Two Layers"
    )
    three = title_markers(
        "Learning and Generalization in Overparameterized Neural Networks, Going Beyond Three Layers"
    )
    assert two == {"2"} and three == {"3"}
    assert markers_conflict(two, three)
    assert not markers_conflict(two, title_markers("Going beyond 2 layers"))
    # "one" is as often no count at all ("one-shot")
    assert title_markers("One-shot learning of object categories") == frozenset()


def test_invisible_characters_are_folded() -> None:
    word = "generalization"
    for invisible in ("\u00ad", "\u200b", "\u2060", "\ufeff", "\u200e"):
        assert clean_text(f"generali{invisible}zation") == word, repr(invisible)
        assert normalize_title(f"Rethinking generali{invisible}zation") == "rethinking generalization"
    # a soft hyphen at a line end still joins the word
    assert clean_text("generaliza\u00ad\ntion") == word


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("Zhang, C. et al.", ("Zhang, C.",)),
        ("Zhang, C., Bengio, S., et al.", ("Zhang, C.", "Bengio, S.")),
        ("Chiyuan Zhang, Samy Bengio, et al", ("Chiyuan Zhang", "Samy Bengio")),
        ("Jacot et al.", ("Jacot",)),
    ],
)
def test_et_al_in_an_author_cell_is_no_name(cell: str, names: tuple[str, ...]) -> None:
    assert split_authors(cell) == names


def test_author_names() -> None:
    # a letter entity a tokenizer cut out of its word goes back inside it
    assert split_authors("bertram lud &#228; scher , richard marciano") == (
        "bertram ludäscher",
        "richard marciano",
    )
    assert split_authors("tamer &#214; zsu , &#216; ystein torbj &#248; rnsen") == (
        "tamer Özsu",
        "Øystein torbjørnsen",
    )
    assert surname("m. tamer &#214; zsu") == "ozsu"
    # entities that are not a cut-out letter keep their spaces
    assert (
        clean_text("caf&#233; x , research &amp; development , a &#8212; b")
        == "café x , research & development , a — b"
    )
    assert split_authors("Jacot, A., Gabriel, F., & Hongler, C.") == (
        "Jacot, A.",
        "Gabriel, F.",
        "Hongler, C.",
    )
    assert split_authors("Jacot, A.") == ("Jacot, A.",)
    assert split_authors("Arthur Jacot, Franck Gabriel") == ("Arthur Jacot", "Franck Gabriel")
    assert split_authors("Roberts, Daniel A.; Yaida, Sho; Hanin, Boris") == (
        "Roberts, Daniel A.",
        "Yaida, Sho",
        "Hanin, Boris",
    )
    assert split_authors("Arthur Jacot and Franck Gabriel and Clément Hongler") == (
        "Arthur Jacot",
        "Franck Gabriel",
        "Clément Hongler",
    )
    assert surname("Clément Hongler") == "hongler"
    assert surname("Hongler, C.") == "hongler"
    assert surname("Hongler C") == "hongler"
    assert surname("Daniel A. Roberts Jr.") == "roberts"
    assert name_key("et al.") == name_key("…") == name_key("?") == ("", "")
    assert name_key("Jacot et al.") == name_key("Jacot") == ("jacot", "jacot")
    # a tokenizer that split a name around an entity still yields the same letters
    assert name_key("u &#287; ur &#199; etintemel")[1] == name_key("Uğur Çetintemel")[1] == "ugurcetintemel"


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("Benign Overfitting in Linear Regression", TitleShape.TITLE),
        ("深度学习理论阅读清单", TitleShape.TITLE),
        ("Does SGD Generalize?", TitleShape.TITLE),
        ("Learning from data: a short course", TitleShape.TITLE),
        ("Good [[n,k,d]] quantum codes", TitleShape.TITLE),
        ("Classical and quantum learning", TitleShape.TITLE),
        ("deep double descent", TitleShape.WEAK),
        ("NTK", TitleShape.WEAK),
        ("must read!", TitleShape.REMARK),
        ("A classic", TitleShape.REMARK),
        ("Bartlett et al. 2019", TitleShape.REMARK),
        ("<script>alert(5)</script>", TitleShape.JUNK),
        ("[Click me](javascript:alert(4)) Benign overfitting", TitleShape.JUNK),
        ("Post <img src=x onerror=alert(1)>", TitleShape.JUNK),
        ("]]]) [[", TitleShape.JUNK),
        ("1906.11300", TitleShape.JUNK),
        ("", TitleShape.JUNK),
    ],
)
def test_title_shape(text: str, shape: int) -> None:
    assert title_shape(text) == shape


@pytest.mark.parametrize(
    ("tex", "unicode"),
    [
        # Zhang, Lee, Jordan (ICML 2016) as arXiv writes it and as an aggregator renders it
        (
            r"$\ell_1$-regularized Neural Networks are Improperly Learnable in Polynomial Time",
            "ℓ1-regularized neural networks are improperly learnable in polynomial time",
        ),
        (
            r"$\beta$-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework",
            "β-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework",
        ),
        (r"Bounds in $L^2$ and $\ell_{\infty}$", "Bounds in L² and ℓ∞"),
        (r"Rates of order $O(1/\sqrt{n})$", "Rates of order O(1/√n)"),
        (r"$\varepsilon$-greedy exploration", "ε-greedy exploration"),
        (r"Width $\to \infty$ limits for $d \leq n$", "Width → ∞ limits for d ≤ n"),
    ],
)
def test_tex_math_and_its_unicode_rendering_normalize_alike(tex: str, unicode: str) -> None:
    assert normalize_title(tex) == normalize_title(unicode)
    assert title_variants(unicode) == (normalize_title(unicode),)  # Greek letters are math, not a language


def test_a_greek_language_title_is_not_english() -> None:
    assert title_variants("Βαθιά μάθηση") == ()


# --- followed authors: one person however a bibliography writes the name --------------------


@pytest.mark.parametrize(
    ("followed", "written"),
    [
        ("Sanjeev Arora", "S. Arora"),
        ("Sanjeev Arora", "Arora, Sanjeev"),
        ("Sanjeev Arora", "SANJEEV ARORA"),
        ("Sanjeev Arora", "Arora S"),  # initials after the family name
        ("Lénaïc Chizat", "Lenaic Chizat"),
        ("Lenaic Chizat", r"L\'ena\"ic Chizat"),  # LaTeX accents
        ("Jean-Christophe Mourrat", "J.-C. Mourrat"),
        ("Jean-Christophe Mourrat", "Jean Christophe Mourrat"),
        ("Jean-Christophe Mourrat", "J. Mourrat"),
        ("Rodrigo Ferreira da Silva", "Ferreira da Silva, Rodrigo"),
        ("Rodrigo Ferreira da Silva", "R. F. da Silva"),
        ("Gérard Ben Arous", "G. Ben-Arous"),
        ("Aad van der Vaart", "van der Vaart, A. W."),
        ("Yann LeCun", "Yann Le Cun"),
        ("Michael I. Jordan", "Michael Jordan"),  # a middle initial one side leaves out
        ("Zhi-Qin John Xu", "Zhiqin John Xu"),  # pinyin written apart or together
        ("Wei Hu", "Hu, Wei"),  # family name first, marked by the comma
        ("Wei Hu", "HU Wei"),  # ... or by the capitals
        ("S. Arora", "Sanjeev Arora"),  # an initial says only its letter
        ("S. Arora", "Sanjay Arora"),
        ("Arora", "Raman Arora"),  # a family name alone follows every Arora
        ("Quoc V. Le", "Quoc Le"),
        ("Sanjeev Arora", "Sanjeev Arora (Princeton University)"),  # an affiliation after it
        ("Wei Hu", "Wei Hu (1)"),  # a footnote mark
        ("Zico Kolter", "J. Zico Kolter"),  # known by a second given name behind an initial
        ("Zico Kolter", "J. Z. Kolter"),
        ("J. Zico Kolter", "Zico Kolter"),
        ("Sebastian Seung", "H. Sebastian Seung"),
        ("van der Vaart", "Aad van der Vaart"),  # a family name alone, particles and all
        ("de la Cruz", "María de la Cruz"),
        ("García Márquez, Gabriel José", "Gabriel García Márquez"),  # two family names
        ("García Márquez, Gabriel José", "G. García Márquez"),
        ("José Miguel Hernández-Lobato", "José Hernández-Lobato"),
    ],
)
def test_the_same_author_written_another_way(followed: str, written: str) -> None:
    assert same_author(followed, written)
    assert followed_authors([followed], ["Boaz Barak", written]) == (written,)


@pytest.mark.parametrize(
    ("followed", "written"),
    [
        ("Sanjeev Arora", "Raman Arora"),  # two given names that differ
        ("Michael I. Jordan", "Michael B. Jordan"),
        ("Le Song", "Yang Song"),  # "Le" opens the name: a given name, not a particle
        ("Jean-Christophe Mourrat", "Jean-Pierre Mourrat"),
        ("Song Mei", "Mei Song"),  # no mark of order: read given name first, as arXiv lists
        ("Wei Hu", "Hu Wei"),
        ("Sanjeev Arora", "Arora"),  # a paper's bare family name is nobody in particular
        ("Sanjeev Arora", "et al."),
        ("Sanjeev Arora", "Arora et al."),
        ("Zico Kolter", "J. Kolter"),  # the initial is not Zico's
        ("Zico Kolter", "J. Ravi Kolter"),
        ("García Márquez, Gabriel José", "Pedro García Márquez"),
    ],
)
def test_another_person_is_not_followed(followed: str, written: str) -> None:
    assert not same_author(followed, written)


def test_person_name_reads_the_orders_bibliographies_use() -> None:
    assert person_name("Arora, Sanjeev") == person_name("Sanjeev Arora")
    assert person_name("ZHANG Wei") == person_name("Wei Zhang")
    # the comma says where the family name starts; written given name first, nothing does
    family_first = person_name("Ferreira da Silva, Rodrigo")
    assert family_first is not None and family_first.given == ("rodrigo",)
    assert family_first.family_words == ("ferreira", "da", "silva")
    assert same_author("Ferreira da Silva, Rodrigo", "Rodrigo Ferreira da Silva")
    name = person_name("Rodrigo Ferreira da Silva")
    assert name is not None and name.given == ("rodrigo", "ferreira") and name.family == "silva"
    assert name.family_joined == "dasilva"
    assert person_name("Sanjeev Arora, Jr.") == person_name("Sanjeev Arora")
    assert person_name("others") is None and person_name("…") is None
    # another script: compared as written
    assert same_author("张伟", "张伟") and not same_author("张伟", "Wei Zhang")


def test_followed_authors_keeps_the_papers_spelling_and_order() -> None:
    authors = ["Simon S. Du", "Jason D. Lee", "Haochuan Li", "Liwei Wang", "Xiyu Zhai"]
    assert followed_authors(["Zhai, Xiyu", "J. Lee", "Sanjeev Arora"], authors) == (
        "Jason D. Lee",
        "Xiyu Zhai",
    )
    assert followed_authors([], authors) == ()


@pytest.mark.parametrize(
    "cited",
    [
        "The principles of deep learning theory. arXiv preprint arXiv:2106.10165",
        "The Principles of Deep Learning Theory, arXiv preprint, 2021",
        "[PDF] The principles of deep learning theory",
        "[CITATION][C] The Principles of Deep Learning Theory",
    ],
)
def test_what_citations_and_search_results_add_around_a_title_is_dropped(cited: str) -> None:
    assert normalize_title(cited) == core_title(cited) == "the principles of deep learning theory"


def test_arxiv_preprint_inside_a_title_is_kept() -> None:
    assert (
        normalize_title("What makes an arXiv preprint get cited?") == "what makes an arxiv preprint get cited"
    )


def test_numbered_series_tail() -> None:
    tail = numbered_series_tail("Tensor Programs IV: Feature Learning in Infinite-Width Neural Networks")
    assert tail == "Feature Learning in Infinite-Width Neural Networks"
    assert numbered_series_tail("Mean Field Analysis of Neural Networks: A Law of Large Numbers") == ""
    assert numbered_series_tail("Feature Learning in Infinite-Width Neural Networks") == ""


def test_cyrillic_look_alikes_inside_an_english_word_are_latin() -> None:
    spoofed = "Underst\u0430nding deep le\u0430rning requires rethinking generalization"
    assert is_latin(spoofed)
    assert normalize_title(spoofed) == "understanding deep learning requires rethinking generalization"
    # a Russian title keeps its letters
    assert normalize_title("Глубокое обучение") == "глубокое обучение"
