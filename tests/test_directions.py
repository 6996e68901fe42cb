"""Taxonomy loading, the direction classifier, relevance, reader filters, emerging groups.

Every title below was written for these tests (none comes from the evaluation file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dltheory_digest.directions import (
    DEFAULT_TAXONOMY,
    OTHER,
    DirectionClassifier,
    KeywordFilter,
    Taxonomy,
    contains_phrase,
    emerging_groups,
    is_relevant,
    load_taxonomy,
    normalize,
    passes,
    top_directions,
)
from dltheory_digest.errors import ConfigError
from dltheory_digest.language.glossary import Glossary
from dltheory_digest.models import Classification

DEFAULT_IDS = (
    "generalization",
    "optimization",
    "landscape",
    "overparameterization",
    "expressivity",
    "implicit_bias",
    "architectures",
    "robustness",
    "information_physics",
    "bayesian_slt",
    "surveys",
    "other",
)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def classifier(taxonomy: Taxonomy) -> DirectionClassifier:
    return DirectionClassifier.from_taxonomy(taxonomy)


# --------------------------------------------------------------------------- taxonomy


def test_default_taxonomy_has_the_issue_directions_in_order(taxonomy: Taxonomy) -> None:
    assert taxonomy.ids == DEFAULT_IDS
    assert taxonomy.name_of("bayesian_slt").startswith("Bayesian")
    assert taxonomy.name_of("unknown") == "unknown"


def test_every_default_direction_but_other_has_text_phrases_and_real_examples(taxonomy: Taxonomy) -> None:
    for direction in taxonomy.directions:
        assert direction.name and direction.description
        if direction.id == OTHER:
            assert not direction.trainable
            continue
        assert len(direction.phrases) >= 10, direction.id
        assert len(direction.examples) >= 3, direction.id
        assert len(direction.example_titles) >= 10, direction.id
        assert all(len(e.split(".")[0]) == 4 for e in direction.examples), direction.examples
    all_examples = [e for d in taxonomy.directions for e in d.examples]
    # a few well-known anchors of the default taxonomy
    assert "1806.07572" in taxonomy.get("overparameterization").examples  # the NTK paper
    assert "2106.10165" in all_examples  # The Principles of Deep Learning Theory
    assert "2402.15332" in taxonomy.get("architectures").examples  # categorical deep learning
    assert taxonomy.off_topic.titles and taxonomy.off_topic.phrases


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
directions:
  - id: kernels
    name: Kernel limits
    description: Infinite-width kernel limits of networks.
    phrases: [neural tangent kernel, infinite width]
    examples: [{id: "1806.07572", title: "Neural Tangent Kernel"}]
    titles: [Kernel limits of wide networks]
  - id: attacks
    name: Attacks
    description: Adversarial examples.
    phrases: [adversarial examples, adversarial training]
    examples: ["1412.6572"]
"""


def test_user_taxonomy_loads_and_gets_an_other_direction(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(_write(tmp_path, MINIMAL))
    assert taxonomy.ids == ("kernels", "attacks", OTHER)
    assert taxonomy.get("kernels").examples == ("1806.07572",)
    assert taxonomy.get("kernels").example_titles == (
        "Neural Tangent Kernel",
        "Kernel limits of wide networks",
    )
    assert taxonomy.get("attacks").examples == ("1412.6572",)
    classifier = DirectionClassifier.from_taxonomy(taxonomy)
    assert classifier.classify("Adversarial training of ReLU networks").primary == "attacks"
    assert classifier.classify("The neural tangent kernel at infinite width").primary == "kernels"


@pytest.mark.parametrize(
    ("body", "direction", "field"),
    [
        (MINIMAL.replace("id: kernels", "id: Kernels!"), None, "id"),
        (
            MINIMAL.replace("phrases: [neural tangent kernel, infinite width]", "phrases: 3"),
            "kernels",
            "phrases",
        ),
        (MINIMAL.replace('"1806.07572"', "1806.07572"), "kernels", "examples.0"),
        (MINIMAL.replace('"1412.6572"', '"not-an-id"'), "attacks", "examples.0"),
        (MINIMAL.replace("    name: Attacks\n", ""), "attacks", "name"),
        (
            MINIMAL.replace("    description: Adversarial examples.\n", "    colour: red\n"),
            "attacks",
            "colour",
        ),
        (MINIMAL.replace("id: attacks", "id: kernels"), "kernels", "id"),
        (
            MINIMAL.replace("    name: Attacks\n", "    name: Attacks\n    takes_from: [kernel]\n"),
            "attacks",
            "takes_from",
        ),
        (
            MINIMAL.replace("    name: Attacks\n", "    name: Attacks\n    takeover: 2\n"),
            "attacks",
            "takeover",
        ),
    ],
)
def test_bad_taxonomy_names_file_direction_and_field(
    tmp_path: Path, body: str, direction: str | None, field: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    message = str(info.value)
    assert message.startswith("taxonomy.yaml: direction ")
    assert f"field {field!r}" in message or f"field '{field}" in message
    assert info.value.path == str(path)
    if direction:
        assert f"direction {direction!r}" in message
        assert info.value.source_id == direction


def test_a_direction_takes_papers_from_the_directions_it_names(tmp_path: Path) -> None:
    title = "Neural tangent kernel analysis of adversarial training"
    plain = DirectionClassifier(load_taxonomy(_write(tmp_path, MINIMAL)))
    assert plain.classify(title).primary == "kernels"  # the subject at the head of the title
    taking = MINIMAL.replace("    name: Attacks\n", "    name: Attacks\n    takes_from: [kernels]\n")
    classifier = DirectionClassifier(load_taxonomy(_write(tmp_path, taking)))
    result = classifier.classify(title)
    assert result.primary == "attacks" and result.confident
    assert result.scores[0][0] == "kernels"  # the scores themselves are unchanged
    # no phrase of the taker in the title, nothing taken
    assert classifier.classify("Neural tangent kernel of wide networks").primary == "kernels"
    # a share of the primary's score above the taker's own: nothing taken either
    strict = taking.replace("takes_from: [kernels]", "takes_from: all\n    takeover: 1.0")
    assert load_taxonomy(_write(tmp_path, strict)).get("attacks").takes_from == ("all",)
    assert DirectionClassifier(load_taxonomy(_write(tmp_path, strict))).classify(title).primary == "kernels"


TAKEN = [
    # what a paper studies (an architecture, a threat model) before the question it asks
    ("architectures", "Generalization bounds for message passing graph neural networks"),
    ("architectures", "Convergence of gradient descent for training recurrent neural networks"),
    ("robustness", "Generalization bounds for adversarially robust classifiers"),
    # what a paper is: a survey of any topic is a survey
    ("surveys", "Graph neural networks: a survey of their expressive power"),
    ("surveys", "Adversarial attacks on deep networks: a review"),
    # loss-landscape geometry keeps its papers: permutation symmetry is of the parameters
    ("landscape", "Permutation symmetries and linear mode connectivity of the loss landscape"),
]


@pytest.mark.parametrize(("expected", "title"), TAKEN)
def test_default_taxonomy_files_papers_by_what_they_study(
    classifier: DirectionClassifier, expected: str, title: str
) -> None:
    assert classifier.classify(title).primary == expected


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "    phrases: [adversarial examples, adversarial training]\n",
            "    phrase: [adversarial examples]\n",
            "taxonomy.yaml: direction 'attacks': field 'phrase': unknown field (known: description, "
            "examples, id, name, phrases, settings, takeover, takes_from, titles, weight)",
        ),
        (
            "    name: Attacks\n",
            "    name: Attacks\n    weight: heavy\n",
            "taxonomy.yaml: direction 'attacks': field 'weight': expected a number, got 'heavy'",
        ),
        (
            "    name: Attacks\n",
            "    name: Attacks\n    weight: 3\n",
            "taxonomy.yaml: direction 'attacks': field 'weight': must be at most 2.0, got 3",
        ),
        (
            "    phrases: [adversarial examples, adversarial training]\n",
            "    phrases: adversarial examples\n",
            "taxonomy.yaml: direction 'attacks': field 'phrases': expected a list, e.g. [adversarial examples]",
        ),
    ],
)
def test_bad_taxonomy_fields_are_worded_as_in_the_settings_and_sources_files(
    tmp_path: Path, old: str, new: str, said: str
) -> None:
    """The same words as sources.yaml's and the settings' errors, not pydantic's ("Extra inputs
    are not permitted", "Input should be a valid number")."""
    assert old in MINIMAL
    with pytest.raises(ConfigError) as info:
        load_taxonomy(_write(tmp_path, MINIMAL.replace(old, new)))
    assert str(info.value) == said


def test_settings_and_common_settings_load(tmp_path: Path) -> None:
    body = MINIMAL.replace(
        "    titles: [Kernel limits of wide networks]\n",
        "    titles: [Kernel limits of wide networks]\n    settings: [wide networks, kernel regime]\n",
    )
    taxonomy = load_taxonomy(_write(tmp_path, "common_settings: [deep networks, classification]\n" + body))
    assert taxonomy.get("kernels").settings == ("wide networks", "kernel regime")
    assert taxonomy.get("attacks").settings == ()
    assert taxonomy.common_settings == ("deep networks", "classification")
    with pytest.raises(ConfigError, match="field 'settings"):
        load_taxonomy(
            _write(tmp_path, body.replace("[wide networks, kernel regime]", '[wide networks, " "]'))
        )


def test_default_taxonomy_separates_subjects_from_settings(taxonomy: Taxonomy) -> None:
    assert len(taxonomy.common_settings) >= 20
    overparameterization = taxonomy.get("overparameterization")
    assert "neural tangent kernel" in overparameterization.phrases
    assert "wide" in overparameterization.settings and "wide" not in overparameterization.phrases
    assert "spectral bias" in taxonomy.get("implicit_bias").phrases
    assert "random matrix theory" in taxonomy.get("information_physics").phrases
    assert "effective field theory" in taxonomy.get("information_physics").phrases
    assert "singular learning theory" in taxonomy.get("bayesian_slt").phrases
    for direction in taxonomy.directions:  # a phrase is either a subject or a setting
        assert not set(direction.phrases) & set(direction.settings), direction.id


def test_unreadable_taxonomy_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_taxonomy(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_taxonomy(_write(tmp_path, "directions: [unclosed"))
    with pytest.raises(ConfigError, match="field 'directions'"):
        load_taxonomy(_write(tmp_path, "version: 1\n"))
    one = MINIMAL.split("  - id: attacks")[0]
    with pytest.raises(ConfigError, match="at least two directions"):
        load_taxonomy(_write(tmp_path, one))


def test_default_path_is_the_packaged_file() -> None:
    assert DEFAULT_TAXONOMY.is_file()
    assert load_taxonomy(DEFAULT_TAXONOMY) == load_taxonomy()


# --------------------------------------------------------------------------- text


def test_normalize_and_phrase_matching_ignore_spelling_variants() -> None:
    assert normalize("Over-Parametrised Networks: $\\ell_2$ Bounds") == "over parameterized networks 2 bounds"
    assert contains_phrase("A mean-field analysis", "mean field")
    assert contains_phrase("A meanfield analysis", "mean-field")
    assert contains_phrase("Over-parameterized networks", "overparameterized")
    assert contains_phrase("Neural Tangent Kernels of ResNets", "neural tangent kernel")
    assert contains_phrase("Hölder classes", "holder")
    assert contains_phrase("Bayes-optimal estimation", "bayes")
    assert not contains_phrase("Attentional blink in humans", "attention")
    assert not contains_phrase("Tenseness", "tensor")
    # -y and -ies plurals find each other, both in one word and at the end of a phrase
    assert contains_phrase("BadNets: Identifying Vulnerabilities in the Supply Chain", "vulnerability")
    assert contains_phrase("Symmetry breaking in wide networks", "symmetries")
    assert contains_phrase("Learning with group symmetries", "group symmetry")
    assert contains_phrase("No spurious local minimum", "spurious local minima")
    assert contains_phrase("Hessian spectra of deep nets", "hessian spectrum")
    assert not contains_phrase("Three days of training", "day one")


# --------------------------------------------------------------------------- classifier

OBVIOUS = [
    ("generalization", "PAC-Bayes generalization bounds for deep networks with heavy-tailed weights"),
    ("generalization", "Benign overfitting of interpolating two-layer ReLU classifiers"),
    (
        "optimization",
        "Convergence rates of stochastic gradient descent with decaying step sizes for deep networks",
    ),
    ("optimization", "Edge of stability dynamics of gradient descent with large learning rates"),
    ("landscape", "Mode connectivity and the absence of barriers in the loss landscape"),
    ("landscape", "Sharp versus flat minima: a Hessian analysis of trained networks"),
    ("overparameterization", "Finite-width corrections to the neural tangent kernel of deep networks"),
    ("overparameterization", "Mean-field limit of infinitely wide two-layer networks"),
    ("expressivity", "Universal approximation with deep narrow networks"),
    ("expressivity", "Depth separation results for approximating radial functions"),
    ("implicit_bias", "Implicit regularization of gradient flow in deep matrix factorization"),
    ("implicit_bias", "Spectral bias and the frequency principle in network training"),
    ("architectures", "Oversmoothing in message passing graph neural networks"),
    ("architectures", "How transformers perform in-context learning of linear functions"),
    ("robustness", "Adversarial examples and certified robustness for Lipschitz networks"),
    ("robustness", "Differential privacy guarantees for noisy stochastic gradient training"),
    ("information_physics", "The information bottleneck in deep representations"),
    ("information_physics", "A replica calculation of learning curves in the teacher-student perceptron"),
    ("bayesian_slt", "The real log canonical threshold of singular neural network models"),
    ("bayesian_slt", "Posterior distributions of Bayesian neural networks with Gaussian priors"),
    ("surveys", "A survey of deep learning theory"),
    ("surveys", "Lecture notes on the theory of neural networks"),
]


@pytest.mark.parametrize(("expected", "title"), OBVIOUS)
def test_obvious_titles_get_their_direction(
    classifier: DirectionClassifier, expected: str, title: str
) -> None:
    result = classifier.classify(title)
    assert result.primary == expected, result.scores[:3]
    assert result.confident
    assert result.scores[0][0] == expected
    assert result.relevance >= 0.30  # kept at the default relevance threshold


# the phenomenon a title studies decides, not the setting it is studied in
SUBJECT_IN_A_SETTING = [
    ("implicit_bias", "Spectral bias of the neural tangent kernel for deep residual networks"),
    ("implicit_bias", "Implicit bias of gradient descent on two-layer ReLU networks"),
    ("information_physics", "A random matrix analysis of training wide two-layer networks"),
    ("information_physics", "Statistical mechanics of learning in the kernel regime"),
    ("robustness", "Adversarial robustness of networks in the lazy training regime"),
    ("bayesian_slt", "Bayesian neural networks with many hidden units: the posterior in the wide limit"),
]


@pytest.mark.parametrize(("expected", "title"), SUBJECT_IN_A_SETTING)
def test_the_subject_of_a_title_outranks_its_setting(
    classifier: DirectionClassifier, expected: str, title: str
) -> None:
    result = classifier.classify(title)
    assert result.primary == expected, result.scores[:3]


def test_setting_phrases_are_weak_and_the_head_of_a_title_counts_more(tmp_path: Path) -> None:
    body = MINIMAL.replace(
        "    titles: [Kernel limits of wide networks]\n",
        "    titles: [Kernel limits of wide networks]\n    settings: [wide networks]\n",
    )
    classifier = DirectionClassifier(load_taxonomy(_write(tmp_path, body)))
    as_setting = classifier.phrase_evidence("Attacks on wide networks")["kernels"]
    as_subject = classifier.phrase_evidence("The infinite width of attacks")["kernels"]
    assert 0 < as_setting < as_subject
    assert classifier.classify("Adversarial examples of wide networks").primary == "attacks"
    # the same phrase weighs more as the subject ("X" in "X of Y") than in the setting
    head = classifier.phrase_evidence("Adversarial training of networks")["attacks"]
    tail = classifier.phrase_evidence("Networks with adversarial training")["attacks"]
    assert head > tail > 0


def test_words_of_a_longer_phrase_are_not_counted_twice(classifier: DirectionClassifier) -> None:
    longer = classifier.phrase_evidence("Networks and the neural tangent kernel")["overparameterization"]
    shorter = classifier.phrase_evidence("Networks and the tangent kernel")["overparameterization"]
    # 'tangent kernel' and 'kernel' are inside 'neural tangent kernel': only the longest counts
    assert shorter < longer < 2 * shorter


def test_scores_cover_every_direction_sorted_and_bounded(classifier: DirectionClassifier) -> None:
    result = classifier.classify(
        "Adversarial robustness of wide networks in the neural tangent kernel regime",
        "We prove that adversarial training in the lazy regime cannot remove adversarial examples.",
    )
    ids = [d for d, _ in result.scores]
    assert sorted(ids) == sorted(d for d in DEFAULT_IDS if d != OTHER)
    values = [s for _, s in result.scores]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in values)
    # a multi-label view: both the setting and the question of the paper score high
    assert {"robustness", "overparameterization"} <= set(top_directions(result, min_score=0.2))


def test_abstract_adds_evidence(classifier: DirectionClassifier) -> None:
    title = "A note on two-layer networks"
    with_abstract = classifier.classify(
        title,
        "We study the neural tangent kernel of infinitely wide networks and show that lazy "
        "training stays close to the kernel regime.",
    )
    assert with_abstract.primary == "overparameterization"
    assert (
        dict(with_abstract.scores)["overparameterization"]
        > dict(classifier.classify(title).scores)["overparameterization"]
    )


def test_classification_is_deterministic(taxonomy: Taxonomy) -> None:
    rows = [(title, "") for _, title in OBVIOUS] + [("Cooking pasta at high altitude", "")]
    first = DirectionClassifier(taxonomy).classify_many(rows)
    second = DirectionClassifier(taxonomy).classify_many(rows)  # a fresh fit, not the cache
    assert first == second
    assert [DirectionClassifier(taxonomy).classify(t, a) for t, a in rows[:3]] == first[:3]


def test_from_taxonomy_reuses_the_fitted_model(taxonomy: Taxonomy) -> None:
    assert DirectionClassifier.from_taxonomy(taxonomy) is DirectionClassifier.from_taxonomy(load_taxonomy())


@pytest.mark.parametrize(
    "title", ["Cooking pasta at high altitude", "Hello world", "", "A dataset of recipes"]
)
def test_titles_with_no_direction_go_to_other_unconfident(
    classifier: DirectionClassifier, title: str
) -> None:
    result = classifier.classify(title)
    assert result.primary == OTHER
    assert not result.confident
    assert result.scores  # scores are still reported for the record


def test_classify_many_matches_classify(classifier: DirectionClassifier) -> None:
    rows = [(OBVIOUS[0][1], ""), (OBVIOUS[5][1], "Hessian eigenvalues near minima."), ("", "")]
    assert classifier.classify_many(rows) == [classifier.classify(t, a) for t, a in rows]
    assert classifier.classify_many([]) == []


# --------------------------------------------------------------------------- relevance


def test_relevance_orders_theory_above_other_fields(classifier: DirectionClassifier) -> None:
    theory = classifier.relevance(
        "A convergence theory for gradient descent on overparameterized ReLU networks"
    )
    astro = classifier.relevance("Photometric variability of red dwarf stars in a young open cluster")
    applied = classifier.relevance("A web dashboard for monitoring hospital bed occupancy")
    stats = classifier.relevance("Sequential hypothesis tests for two-sample comparisons")
    assert theory > 0.6
    assert max(astro, applied, stats) < 0.35 < theory
    assert classifier.relevance("") == 0.0


def test_setting_words_alone_do_not_make_a_paper_relevant(classifier: DirectionClassifier) -> None:
    # physics vocabulary that only describes a setting of the physics of learning
    physics = classifier.classify(
        "Temperature dependence of the energy gap in a quantum magnet",
        "We measure the energy gap and its temperature dependence with neutron scattering.",
    )
    assert physics.relevance < 0.3
    assert classifier.relevance("Statistical mechanics of learning in deep networks") > 0.5


def test_theory_of_language_and_diffusion_models_is_deep_learning_theory(
    classifier: DirectionClassifier,
) -> None:
    # a language or diffusion model is a deep network: its theory passes the threshold ...
    for title in (
        "Non-Vacuous Generalization Bounds for Large Language Models",
        "A Theory for Emergence of Complex Skills and Skills Composition in Language Models",
        "Convergence of Score-Based Diffusion Models under Minimal Assumptions",
    ):
        assert classifier.relevance(title) >= 0.3, title
    # ... while the applied work on them, with no theory cue, stays below
    for title in (
        "Instruction Tuning Large Language Models for Code Generation",
        "A Benchmark of LLM Agents for Customer Support",
        "Fine-tuning Diffusion Models for Medical Image Synthesis",
    ):
        assert classifier.relevance(title) < 0.3, title


def test_relevance_threshold_helper(classifier: DirectionClassifier) -> None:
    result = classifier.classify("Statistical mechanics of the loss landscape of deep networks")
    assert is_relevant(result, 0.35)
    assert not is_relevant(Classification(primary="other", relevance=0.1), 0.35)


# --------------------------------------------------------------------------- filters


def test_keyword_filters() -> None:
    title, abstract = "Spectral bias of wide ReLU networks", "We study the neural tangent kernel."
    assert passes(KeywordFilter(), title, abstract)
    assert passes(KeywordFilter(keywords=("neural tangent kernels",)), title, abstract)  # plural, in abstract
    assert passes(KeywordFilter(keywords=("transformer", "spectral-bias")), title, abstract)
    assert not passes(KeywordFilter(keywords=("transformer",)), title, abstract)
    assert not passes(KeywordFilter(negative_keywords=("ReLU",)), title, abstract)
    assert not passes(
        KeywordFilter(keywords=("spectral bias",), negative_keywords=("kernel",)), title, abstract
    )
    assert passes(KeywordFilter(keywords=("  ", "wide"), negative_keywords=("",)), title, abstract)


def test_keyword_filters_across_hyphens_and_scripts() -> None:
    title = "A Mean Field View of the Landscape of Two-Layer Neural Networks"
    assert passes(KeywordFilter(keywords=("mean-field",)), title)
    assert passes(KeywordFilter(keywords=("two layer neural network",)), title)
    assert not passes(KeywordFilter(negative_keywords=("Mean field",)), title)
    # Chinese and Arabic keywords match inside unspaced text, as written
    commentary = "这篇文章用神经正切核解释了宽网络的训练。"
    assert passes(KeywordFilter(keywords=("神经正切核",)), title, commentary)
    assert not passes(KeywordFilter(keywords=("彩票假设",)), title, commentary)
    assert passes(KeywordFilter(keywords=("الشبكات",)), "نظرية الشبكات العصبية العميقة")
    # an accented Latin keyword is still a phrase: no match inside a longer word
    assert passes(KeywordFilter(keywords=("théorie",)), "Une théorie des réseaux")
    assert not passes(KeywordFilter(keywords=("theor",)), "Une théorie des réseaux")


def test_arabic_keywords_match_whatever_the_diacritics_tatweel_and_letter_variants() -> None:
    # a reader's keyword without shadda finds the text with it, and back
    with_shadda = "مراجعة لنظرية التعلّم العميق"
    assert passes(KeywordFilter(keywords=("التعلم العميق",)), with_shadda)
    assert passes(KeywordFilter(keywords=("التعلّم العميق",)), "مراجعة لنظرية التعلم العميق")
    # tatweel, hamza on the alef, alef maqsura and teh marbuta written as heh
    assert passes(KeywordFilter(keywords=("التعلم العميق",)), "مراجعة لنظرية التعـــلم العميق")
    assert passes(KeywordFilter(keywords=("الإنتباه",)), "آلية الانتباه في المحولات")
    assert passes(KeywordFilter(keywords=("مستوى",)), "على مستوي الطبقة")
    assert passes(KeywordFilter(keywords=("الشبكة العميقة",)), "تدريب الشبكه العميقه")
    assert not passes(KeywordFilter(keywords=("التعلم المعزز",)), with_shadda)
    # negative keywords too
    assert not passes(KeywordFilter(negative_keywords=("التعلم العميق",)), with_shadda)


def test_chinese_keywords_match_traditional_and_simplified_text() -> None:
    simplified, traditional = "用信息瓶颈解释深度网络的泛化", "用資訊瓶頸解釋深度網路的泛化"
    assert passes(KeywordFilter(keywords=("信息瓶頸",)), simplified)
    assert passes(KeywordFilter(keywords=("信息瓶颈",)), "用信息瓶頸解释深度网络")
    assert passes(KeywordFilter(keywords=("瓶颈",)), traditional)
    assert not passes(KeywordFilter(keywords=("双下降",)), simplified, traditional)
    assert not passes(KeywordFilter(negative_keywords=("瓶頸",)), simplified)


def test_chinese_and_arabic_keywords_find_english_papers_through_the_glossary() -> None:
    title = "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"
    assert passes(KeywordFilter(keywords=("神经正切核",)), title)
    assert passes(KeywordFilter(keywords=("神經正切核",)), title)  # Traditional, then the glossary
    assert passes(KeywordFilter(keywords=("النواة المماسية العصبية",)), title)
    assert passes(KeywordFilter(keywords=("平均场",)), "A Mean Field View of Two-Layer Neural Networks")
    # the glossary's English is a phrase: plurals and hyphens as for an English keyword
    assert passes(KeywordFilter(keywords=("شبكات عصبية",)), "Deep neural network expressivity")
    assert not passes(KeywordFilter(keywords=("双下降",)), title)
    assert not passes(KeywordFilter(negative_keywords=("神经正切核",)), title)
    # a keyword the glossary does not translate whole is looked for as written only
    assert not passes(KeywordFilter(keywords=("神经正切核理论",)), title)
    # the reader's own glossary (DLTHEORY_GLOSSARY_FILE) is the one used when given
    own = Glossary(terms={"zh": (("宽网络", "wide networks"),)})
    assert passes(KeywordFilter(keywords=("宽网络",), glossary=own), "Wide networks and their limits")
    assert not passes(KeywordFilter(keywords=("宽网络",)), "Wide networks and their limits")


def test_an_arabic_keyword_finds_the_glossary_whatever_its_letter_variants() -> None:
    title = "Attention is not all you need: pure attention loses rank doubly exponentially"
    own = Glossary(terms={"ar": (("الانتباه", "attention"),)})
    # alef with hamza below (a common spelling) for the glossary's bare alef, and the reverse
    assert passes(KeywordFilter(keywords=("الإنتباه",), glossary=own), title)
    assert passes(KeywordFilter(keywords=("الانتباه",), glossary=own), title)
    hamza = Glossary(terms={"ar": (("الإنتباه", "attention"),)})
    assert passes(KeywordFilter(keywords=("الانتباه",), glossary=hamza), title)
    # with a diacritic as well; and as a negative keyword
    assert passes(KeywordFilter(keywords=("الإنْتباه",), glossary=own), title)
    assert not passes(KeywordFilter(negative_keywords=("الإنتباه",), glossary=own), title)
    # the shipped glossary: "الإفراط في التخصيص" (overfitting) typed with bare alefs,
    # "خطأ التعميم" (generalization error) without its hamza
    assert passes(KeywordFilter(keywords=("الافراط في التخصيص",)), "Benign overfitting in linear regression")
    assert passes(KeywordFilter(keywords=("خطا التعميم",)), "Bounds on the generalization error of SGD")
    # folding finds no term the glossary does not have
    assert not passes(KeywordFilter(keywords=("الإنتباه",)), title)
    # a keyword typed with a conjunction or preposition in front means the term itself
    assert passes(KeywordFilter(keywords=("بالإنتباه",), glossary=own), title)
    assert passes(KeywordFilter(keywords=("والشبكات العصبية",)), "Deep neural networks as Gaussian processes")
    assert passes(KeywordFilter(keywords=("للتعلم العميق",)), "A theory of deep learning")


# Titles as arXiv writes them (TeX) and as pages and readers write them (Unicode, names)
MU_P, ALPHA_STABLE = r"Feature Learning via $\mu$P", r"Heavy Tails in SGD: $\alpha$-Stable Noise"
EPSILON_GREEDY, ELL_1 = r"Regret of $\epsilon$-Greedy", r"$\ell_1$-Regularized Linear Regression"
L_1, BETA_VAE = r"$L_1$ Regularization of Deep Nets", r"Disentangling in $\beta$-VAE"
ELL_INFINITY = r"Certified Robustness in $\ell_\infty$ Norm"


@pytest.mark.parametrize(
    ("keyword", "title"),
    [
        # a Greek letter typed as the letter or by its name, written in TeX or Unicode
        ("μP", MU_P),
        ("muP", MU_P),
        ("µP", MU_P),  # the micro sign
        ("muP", "Feature Learning via μP"),
        ("μP", "Tensor Programs V: muP Transfer"),
        ("α-stable", ALPHA_STABLE),
        ("alpha-stable", ALPHA_STABLE),
        ("α-stable", "Heavy Tails: alpha-stable noise"),
        ("epsilon-greedy", EPSILON_GREEDY),
        ("ε-greedy", EPSILON_GREEDY),
        ("ε-greedy", r"Regret of $\varepsilon$-Greedy"),
        ("epsilon-greedy", "Regret of ϵ-greedy"),
        ("beta-VAE", BETA_VAE),
        ("β-VAE", BETA_VAE),
        ("epsilon", r"$\mathbb{E}[\|\nabla f(x_T)\|^2] \leq \epsilon$ After $O(\epsilon^{-4})$ Steps"),
        # a TeX macro left in a formula that has no text form
        ("epsilon", r"Rates ${\rm err} \le \epsilon$"),
        # ℓ and L norms
        ("l1-regularized", ELL_1),
        ("ℓ1 regularized", ELL_1),
        ("ℓ₁-regularized", ELL_1),
        ("L1 regularization", L_1),
        ("ℓ∞", ELL_INFINITY),
        ("l-infinity", ELL_INFINITY),
        ("ℓ∞ norm", r"Certified Robustness in $\ell_{\infty}$-Norm"),
    ],
)
def test_keywords_match_greek_letters_and_norms_written_in_tex_or_unicode(keyword: str, title: str) -> None:
    assert passes(KeywordFilter(keywords=(keyword,)), title)
    assert not passes(KeywordFilter(negative_keywords=(keyword,)), title)


@pytest.mark.parametrize(
    ("keyword", "title"),
    [
        ("l1", r"Bounds in $\ell_2$"),  # another norm
        ("ℓ1", r"Bounds in $\ell_2$"),
        ("mu", MU_P),  # a letter is not the word it is glued to
        ("epsilon-greedy", r"Regret of $\delta$-Greedy"),
        ("infinite width", r"Networks of $\infty$ Width"),
    ],
)
def test_spelled_math_matches_no_other_keyword(keyword: str, title: str) -> None:
    assert not passes(KeywordFilter(keywords=(keyword,)), title)


def test_spelling_math_out_is_for_keywords_only_the_classifier_reads_text_as_before() -> None:
    # the classifier's normal form still drops TeX commands (its figures were fitted on that)
    assert normalize(MU_P) == "feature learning via p"
    assert not contains_phrase("Feature Learning via μP", "mup")


# --------------------------------------------------------------------------- emerging


def test_emerging_groups_gather_close_unconfident_papers() -> None:
    items = [
        ("Tropical geometry of piecewise-linear maps", "tropical polynomials and tropical rational maps"),
        ("Tropical rational maps and their zonotopes", "zonotopes of tropical polynomials"),
        ("Tropical polynomials count the regions of maxout units", "tropical polynomials"),
        ("Kolmogorov-Arnold networks with spline edges", "Kolmogorov-Arnold representation"),
        ("Tropical polynomials and the sharpness of minima", "tropical polynomials"),  # confident: left out
        ("Kolmogorov-Arnold representation and smooth splines", "Kolmogorov-Arnold"),
    ]
    unsure = Classification(primary=OTHER, confident=False)
    sure = Classification(primary="landscape", confident=True)
    classifications = [unsure, unsure, unsure, unsure, sure, unsure]
    assert emerging_groups(items, classifications) == [[0, 1, 2]]
    assert emerging_groups(items, classifications, min_size=2) == [[0, 1, 2], [3, 5]]
    assert emerging_groups(items, [sure] * len(items)) == []
    assert emerging_groups(items[:2], classifications[:2]) == []
    with pytest.raises(ValueError):
        emerging_groups(items, classifications[:3])


def test_emerging_groups_are_not_linked_by_the_digests_own_domain_words() -> None:
    # "theory", "deep", "learning", "neural", "networks", "models" are in every paper of the digest
    items = [
        ("Truth or backpropaganda? An empirical investigation of deep learning theory", ""),
        ("Theory of deep learning", "Deep neural network models"),
        ("Deep learning theory for neural network models", "theory"),
    ]
    unsure = Classification(primary=OTHER, confident=False)
    assert emerging_groups(items, [unsure] * 3, min_size=2) == []
    # a word of their own still groups them
    tropical = [(f"{title} with tropical zonotopes", abstract) for title, abstract in items]
    assert emerging_groups(tropical, [unsure] * 3) == [[0, 1, 2]]


def test_an_emerging_component_over_the_cap_is_split_at_a_stricter_similarity() -> None:
    # two topics, and a paper naming both that chains them into one component of nine
    tropical = [(f"Tropical zonotopes of maxout units {w}", "tropical polynomials") for w in "abcd"]
    bridge = [("Tropical zonotopes of Kolmogorov-Arnold splines", "")]
    kan = [(f"Kolmogorov-Arnold spline edges {w}", "Kolmogorov-Arnold splines") for w in "efgh"]
    items = [*tropical, *bridge, *kan]
    unsure = [Classification(primary=OTHER, confident=False)] * len(items)
    assert emerging_groups(items, unsure) == [list(range(9))]
    # over the cap, the chain breaks where its links are weakest: the two topics, largest first
    assert emerging_groups(items, unsure, max_size=5) == [[4, 5, 6, 7, 8], [0, 1, 2, 3]]
    assert emerging_groups(items, unsure, max_size=4) == [[0, 1, 2, 3], [5, 6, 7, 8]]
    # the same for the same papers given in another order (indices follow the order given)
    order = [8, 3, 5, 0, 4, 7, 1, 6, 2]
    again = emerging_groups([items[i] for i in order], unsure, max_size=4)
    assert sorted(sorted(order[j] for j in g) for g in again) == [[0, 1, 2, 3], [5, 6, 7, 8]]


def test_an_emerging_component_that_no_stricter_similarity_splits_is_no_group() -> None:
    # a dozen papers alike word for word: no topic-sized part, so they stay in Other
    same = [("Cooking pasta at high altitude", "pasta altitude")] * 12
    unsure = [Classification(primary=OTHER, confident=False)] * 12
    assert emerging_groups(same, unsure, max_size=10) == []
    assert emerging_groups(same, unsure, max_size=12) == [list(range(12))]
    with pytest.raises(ValueError):
        emerging_groups(same, unsure, min_size=3, max_size=2)


def test_emerging_groups_with_the_real_classifier(classifier: DirectionClassifier) -> None:
    items = [
        ("Cooking pasta at high altitude", ""),
        ("Boiling pasta at high altitude: cooking times", ""),
        ("Altitude and the cooking of pasta", ""),
        ("Finite-width corrections to the neural tangent kernel of deep networks", ""),
        ("Knitting patterns", ""),
    ]
    classifications = classifier.classify_many(items)
    assert [c.primary == OTHER for c in classifications] == [True, True, True, False, True]
    assert emerging_groups(items, classifications) == [[0, 1, 2]]


# --------------------------------------------------------------------------- fast paths
# classify_many looks phrases up through an index and computes the TF-IDF features of both
# linear models in one pass; these tests hold both to the plain computation they replace.


def _stress_texts(taxonomy: Taxonomy) -> list[str]:
    """The taxonomy's own text, and each phrase written hyphenated, glued, plural,
    capitalised, among LaTeX and accents, as titles and abstracts write them."""
    texts = [d.description for d in taxonomy.directions]
    texts += [title for d in taxonomy.directions for title in d.example_titles]
    for direction in taxonomy.directions:
        for phrase in (*direction.phrases, *direction.settings):
            words = phrase.split()
            texts.append(f"On {'-'.join(words)}es and {''.join(words).upper()} in $\\mathbb{{R}}^d$")
            texts.append(f"Naïve {words[0]}-based {' '.join(words[1:])}s, {words[-1][:-1]} or {words[0]}x")
            if phrase.endswith("y"):  # the -ies plural ('symmetry', 'symmetries')
                texts.append(f"Of {phrase[:-1]}ies and {phrase[:-1].upper()}IES")
    return texts


def test_phrase_index_finds_exactly_what_phrase_matching_finds(
    classifier: DirectionClassifier, taxonomy: Taxonomy
) -> None:
    from dltheory_digest.directions import _PhraseIndex, _Text

    phrases = sorted(
        {normalize(p) for d in taxonomy.directions for p in (*d.phrases, *d.settings)}
        | {"on the", "neural network", "relu", "class", "s"}
    )
    index = _PhraseIndex(phrases)
    checked = 0
    for raw in _stress_texts(taxonomy):
        text = _Text.of(raw)
        expected = {p for p in phrases if text.has(p)}
        assert index.found(text) == expected, raw
        checked += len(expected)
    assert checked > 500  # the texts do contain many phrases


def test_shared_features_equal_each_models_own_transform(
    classifier: DirectionClassifier, taxonomy: Taxonomy
) -> None:
    texts = [normalize(t) for t in _stress_texts(taxonomy)] + ["", "x"]
    shared = classifier._tfidf.transform(texts)
    assert classifier._rel is not None
    for union, got in zip((classifier._vec, classifier._rel[0]), shared, strict=True):
        expected = union.transform(texts)
        assert got.shape == expected.shape
        # the same sparse layout and the same bits, so the models see identical input
        assert got.indptr.tolist() == expected.indptr.tolist()
        assert got.indices.tolist() == expected.indices.tolist()
        assert got.data.tolist() == expected.data.tolist()


def test_classify_many_in_small_blocks_matches_one_by_one(
    classifier: DirectionClassifier, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = _stress_texts(taxonomy)[:40]
    rows = [(title, abstract) for title, abstract in zip(texts[::2], texts[1::2], strict=False)]
    rows += [(OBVIOUS[0][1], ""), ("", OBVIOUS[3][1]), ("", "")]
    monkeypatch.setattr(classifier, "_block", 3)
    assert classifier.classify_many(rows) == [classifier.classify(t, a) for t, a in rows]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (
            "Universal approixmation with deep narrow netowrks",
            "Universal approximation with deep narrow networks",
        ),
        (
            "Phase trnasitions in the spectrum of the Hessian",
            "Phase transitions in the spectrum of the Hessian",
        ),
        ("Adversarial robustnes of wide networks", "Adversarial robustness of wide networks"),
        # words run together when a title is copied from a PDF or a table
        (
            "On Exact Computation with an Infinitely WideNeural Net",
            "On Exact Computation with an Infinitely Wide Neural Net",
        ),
        (
            "Learning and Generalization in Overparameterized NeuralNetworks",
            "Learning and Generalization in Overparameterized Neural Networks",
        ),
    ],
)
def test_misspelt_title_words_are_repaired(classifier: DirectionClassifier, typed: str, meant: str) -> None:
    assert classifier.classify(typed) == classifier.classify(meant)


def test_speller_leaves_real_words_and_prefixes_alone(classifier: DirectionClassifier) -> None:
    speller = classifier._speller
    # English words that are one letter from a vocabulary word, and a prefixed word
    for title in ("Augmentation implications", "Unparameterized heteroskedastic models"):
        assert normalize(speller.correct(title)) == normalize(title)
    assert speller.correct("Trnasformers") == "transformers"
    assert speller.correct("WideNeural") == "wide neural"
    # an unknown word that is not two vocabulary words stays as it is
    assert speller.correct("Zxqwertyuiop") == "zxqwertyuiop"


def test_an_abstract_that_opens_by_naming_the_document_type_files_it_there(
    classifier: DirectionClassifier,
) -> None:
    # a book's title rarely says "book"; its abstract's first sentence does
    title = "The Principles of Deep Learning Theory"
    book = (
        "This book develops an effective theory of deep networks at large but finite width. It uses RG flow."
    )
    assert classifier.classify(title).primary == "information_physics"
    assert classifier.classify(title, book).primary == "surveys"
    notes = "These lecture notes introduce kernel limits of wide networks. Exercises follow."
    assert classifier.classify("Kernel limits of wide networks", notes).primary == "surveys"
    # only the paper naming itself counts: an idiom, or the word in a later sentence, does not
    idiom = "Over the course of training, wide networks move little. We prove this for ReLU networks."
    assert classifier.classify("Kernel limits of wide networks", idiom).primary == "overparameterization"
    later = "We prove kernel limits for wide networks. This survey-style appendix lists related work."
    assert classifier.classify("Kernel limits of wide networks", later).primary == "overparameterization"
