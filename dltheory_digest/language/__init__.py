"""Language stage: per-segment detection, normalization, glossary and offline translation.

argostranslate is imported only when a translation actually runs (see `argos.import_argos`).
"""

from dltheory_digest.language.argos import (
    ModelInstallError,
    PackageInfo,
    default_packages_dir,
    install_from_file,
    installed_packages,
)
from dltheory_digest.language.cache import (
    CacheEntry,
    CacheKey,
    MemoryTranslationCache,
    TranslationCache,
    text_hash,
)
from dltheory_digest.language.detect import MIXED, UNDETERMINED, detect, dominant_language
from dltheory_digest.language.glossary import DEFAULT_GLOSSARY, Glossary, load_glossary
from dltheory_digest.language.localize import LanguageResult, localize_items
from dltheory_digest.language.normalize import normalize_text, to_simplified
from dltheory_digest.language.translate import TranslationStats, Translator, make_translator

__all__ = [
    "DEFAULT_GLOSSARY",
    "MIXED",
    "UNDETERMINED",
    "CacheEntry",
    "CacheKey",
    "Glossary",
    "LanguageResult",
    "MemoryTranslationCache",
    "ModelInstallError",
    "PackageInfo",
    "TranslationCache",
    "TranslationStats",
    "Translator",
    "default_packages_dir",
    "detect",
    "dominant_language",
    "install_from_file",
    "installed_packages",
    "load_glossary",
    "localize_items",
    "make_translator",
    "normalize_text",
    "text_hash",
    "to_simplified",
]
