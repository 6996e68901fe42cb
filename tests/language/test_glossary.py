"""The user-editable glossary file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dltheory_digest.errors import ConfigError
from dltheory_digest.language import DEFAULT_GLOSSARY, load_glossary
from dltheory_digest.language.normalize import normalize_text


def test_shipped_glossary_has_the_key_terms_in_both_languages() -> None:
    glossary = load_glossary()
    assert {"zh", "ar"} <= set(glossary.languages())
    assert glossary.english_for("泛化界", "zh") == "generalization bound"
    assert glossary.english_for("神经正切核", "zh") == "neural tangent kernel"
    assert glossary.english_for("过参数化", "zh") == "over-parameterization"
    assert glossary.english_for("النواة المماسية العصبية", "ar") == "neural tangent kernel"
    # matched after normalization: Traditional script, Arabic diacritics
    assert glossary.english_for("神經正切核", "zh") == "neural tangent kernel"
    assert glossary.english_for("التَّعلم العميق", "ar") == "deep learning"


def test_longest_term_wins_and_cjk_terms_get_spaces() -> None:
    glossary = load_glossary()
    assert (
        glossary.to_english("随机梯度下降的隐式偏置", "zh") == "stochastic gradient descent 的 implicit bias"
    )
    assert glossary.to_english("الشبكات العصبية التلافيفية", "ar") == "convolutional neural networks"
    assert glossary.from_english("A Neural Tangent Kernel view", "zh") == "A 神经正切核 view"


@pytest.mark.parametrize(
    ("arabic", "prepared"),
    [
        # و "and" written onto the article: the term is found, و stays (keyword matching strips it)
        ("مقدمة في التعلم العميق والشبكات العصبية", "مقدمة في deep learning و neural networks"),
        ("بالانحدار التدريجي العشوائي", "ب stochastic gradient descent"),  # ب "with"
        ("للشبكات العصبية", "ل neural networks"),  # ل + ال is written لل
        ("فالتعلم الآلي", "ف machine learning"),
        ("شبكة عصبية عميقة", "neural network عميقة"),  # the indefinite form
        ("نظرية التعلم العميق الحديثة", "deep learning theory الحديثة"),  # longest term first
        ("واحد التعميم", "واحد التعميم"),  # "حد التعميم" inside another word is not the term
    ],
)
def test_arabic_terms_are_found_with_attached_prefixes(arabic: str, prepared: str) -> None:
    assert load_glossary().to_english(normalize_text(arabic, "ar"), "ar") == prepared


@pytest.mark.parametrize(
    ("arabic", "prepared"),
    [
        ("مقدمة في التعلم العميق والشبكات العصبية", "مقدمة في deep learning and neural networks"),
        ("بالانحدار التدريجي العشوائي", "with stochastic gradient descent"),
        ("للشبكات العصبية", "for neural networks"),
        ("للتعلم العميق", "for deep learning"),
        ("فالتعلم الآلي", "so machine learning"),
        ("وبالشبكات العصبية", "and with neural networks"),
        ("تحليل الشبكات العصبية", "تحليل neural networks"),  # no prefix, nothing added
    ],
)
def test_for_a_model_an_arabic_prefix_becomes_its_english_word(arabic: str, prepared: str) -> None:
    """A lone "ب" or "ل" in front of an English term is no word a model knows (R1 #7)."""
    glossary = load_glossary()
    assert glossary.to_english(normalize_text(arabic, "ar"), "ar", clitics_in_english=True) == prepared


def test_the_translator_sends_no_lone_arabic_letter(tmp_path: Path) -> None:
    from dltheory_digest.language import Translator

    prepared = Translator(packages_dir=tmp_path).prepare("مراجعة للتعلم العميق بالشبكات العصبية", "ar", "en")
    assert prepared == "مراجعة for deep learning with neural networks"


def test_user_glossary_and_version_follow_the_file(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yaml"
    path.write_text("zh:\n  顿悟: grokking\n", encoding="utf-8")
    first = load_glossary(path)
    assert first.to_english("顿悟现象", "zh") == "grokking 现象"
    path.write_text("zh:\n  顿悟: sudden generalization\n", encoding="utf-8")
    assert load_glossary(path).version != first.version
    assert load_glossary(DEFAULT_GLOSSARY).version == load_glossary().version


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("zh: [a, b]\n", "field 'zh'"),
        ("zh:\n  顿悟: ''\n", "non-empty"),
        ("- zh\n", "expected a mapping"),
        ("zh: {a: [\n", "not valid YAML"),
    ],
)
def test_bad_glossary_names_the_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        load_glossary(path)
    assert "mine.yaml" in str(err.value)


def test_missing_glossary_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_glossary(tmp_path / "nope.yaml")


# -- review of session 14 (F4, F5) --


@pytest.mark.parametrize(
    ("taiwan", "english"),
    [
        ("資訊瓶頸理論", "information bottleneck"),  # 信息瓶颈 in Taiwan's words
        ("卷積神經網路的歸納偏置", "convolutional neural network"),
        ("非凸最佳化方法", "non-convex optimization"),
    ],
)
def test_a_term_in_taiwan_words_is_found(tmp_path: Path, taiwan: str, english: str) -> None:
    """Text is converted to Simplified character by character: 資訊瓶頸 became 资讯瓶颈, no term."""
    from dltheory_digest.language import Translator

    assert english in Translator(packages_dir=tmp_path).prepare(taiwan, "zh", "en")


def test_taiwan_forms_are_found_but_never_written() -> None:
    glossary = load_glossary()
    assert glossary.english_for("資訊瓶頸", "zh") == "information bottleneck"
    assert glossary.from_english("non-convex optimization", "zh") == "非凸优化"
    assert "资讯瓶颈" not in dict(glossary.terms["zh"])  # an alias, not a term of the file


@pytest.mark.parametrize(
    ("text", "lang", "prepared"),
    [
        ("双下降（double descent）现象综述", "zh", "double descent 现象综述"),
        ("神经正切核 (Neural Tangent Kernel) 的经典论文", "zh", "neural tangent kernel 的经典论文"),
        ("过参数化（over parameterization）与泛化", "zh", "over-parameterization 与泛化"),
        ("الشبكات العصبية (Neural Networks) هي نماذج", "ar", "neural networks هي نماذج"),
        # another gloss stays
        ("神经正切核 (NTK) 的经典论文", "zh", "neural tangent kernel (NTK) 的经典论文"),
        ("الشبكات العصبية (CNN) هي", "ar", "neural networks (CNN) هي"),
    ],
)
def test_a_term_glossed_with_its_english_is_replaced_once(text: str, lang: str, prepared: str) -> None:
    glossary = load_glossary()
    assert glossary.to_english(text, lang) == prepared
    assert glossary.to_english(normalize_text(text, lang), lang) == prepared
