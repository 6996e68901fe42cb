"""Build a tiny but real Argos Translate package offline (about two seconds).

The package has everything a downloaded one has, in the same formats:

- `sentencepiece.model`: a SentencePiece model trained on a few hundred generated lines;
- `model/`: a one-layer CTranslate2 Transformer with random (seeded) weights, built through
  `ctranslate2.specs` without torch;
- `minisbd/<lang>.onnx`: a MiniSBD-format sentence splitter built with `onnx`: a per-character
  lookup table that ends a sentence after . ! ? 。 ！ ？ and a token after every character;
- `metadata.json`, all zipped under one top-level folder as `<name>.argosmodel`.

Its output is gibberish but deterministic, so tests can run the real loading, sentence
splitting, tokenizing, batching and decoding paths with no network at all.
"""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

SENTENCE_ENDS = ".!?。！？"
_SYLLABLES_ZH = "泛化界神经正切核过参数网络深度学习理论梯度下降优化损失函数模型训练数据随机特征表示能力"
_WORDS_EN = [
    "generalization",
    "bound",
    "neural",
    "tangent",
    "kernel",
    "over",
    "parameterization",
    "deep",
    "learning",
    "theory",
    "gradient",
    "descent",
    "loss",
    "landscape",
    "implicit",
    "bias",
    "double",
    "descent",
    "feature",
    "learning",
    "network",
    "width",
    "depth",
]
_ARABIC_WORDS = [
    "الشبكات",
    "العصبية",
    "التعلم",
    "العميق",
    "حدود",
    "التعميم",
    "النواة",
    "المماسية",
    "تدريب",
    "نموذج",
    "بيانات",
]


def _corpus(seed: int = 0, lines: int = 400) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(lines):
        zh = "".join(rng.choice(_SYLLABLES_ZH) for _ in range(rng.randint(6, 20)))
        en = " ".join(rng.choice(_WORDS_EN) for _ in range(rng.randint(3, 10)))
        ar = " ".join(rng.choice(_ARABIC_WORDS) for _ in range(rng.randint(3, 8)))
        out.append([zh + "。", en.capitalize() + ".", ar + "."][i % 3])
    return out


def _train_sentencepiece(workdir: Path, vocab_size: int) -> Path:
    import sentencepiece as spm

    corpus = workdir / "corpus.txt"
    corpus.write_text("\n".join(_corpus()) + "\n", encoding="utf-8")
    prefix = workdir / "sentencepiece"
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        character_coverage=1.0,
        model_type="unigram",
        byte_fallback=False,
        minloglevel=2,
    )
    return prefix.with_suffix(".model")


def _set_variable(spec: Any, path: str, value: np.ndarray) -> None:
    target = spec
    parts = path.split("/")
    for part in parts[:-1]:
        if hasattr(target, part):
            target = getattr(target, part)
        else:
            name, index = part.rsplit("_", 1)
            target = getattr(target, name)[int(index)]
    setattr(target, parts[-1], value)


def _build_ctranslate2(
    model_dir: Path, vocab: list[str], *, d_model: int = 32, ffn: int = 64, seed: int = 0
) -> None:
    from ctranslate2.specs import transformer_spec

    spec = transformer_spec.TransformerSpec.from_config(1, 2)
    rng = np.random.default_rng(seed)
    size = len(vocab)

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    shapes: dict[str, tuple[int, ...]] = {}
    for name, value in spec.variables().items():
        if value is not None:
            continue
        leaf = name.rsplit("/", 1)[-1]
        if leaf in ("gamma", "beta"):
            shapes[name] = (d_model,)
        elif (
            name.endswith("embeddings_0/weight")
            or name.endswith("embeddings/weight")
            or name.endswith("projection/weight")
        ):
            shapes[name] = (size, d_model)
        elif "self_attention/linear_0" in name:
            shapes[name] = (3 * d_model, d_model)
        elif "/attention/linear_1" in name and "self_attention" not in name:
            shapes[name] = (2 * d_model, d_model)
        elif "ffn/linear_0" in name:
            shapes[name] = (ffn, d_model)
        elif "ffn/linear_1" in name:
            shapes[name] = (d_model, ffn)
        else:
            shapes[name] = (d_model, d_model)
    for name, shape in shapes.items():
        if name.endswith("gamma"):
            value = np.ones(shape, dtype=np.float32)
        elif name.endswith("beta"):
            value = np.zeros(shape, dtype=np.float32)
        else:
            value = weight(*shape)
        _set_variable(spec, name, value)
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()
    model_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(model_dir))


def _build_minisbd(path: Path, lang: str) -> None:
    """A MiniSBD model: units (int64 [B, N]) and features (float32 [B, N, 1]) in,
    per-character class scores (float32 [B, N, 5]) out; classes as MiniSBD reads them
    (1 = end of token, 2 = end of sentence)."""
    import onnx
    from onnx import TensorProto, helper

    chars = sorted(set("".join(_corpus())) | set(SENTENCE_ENDS) | {" "})
    id2unit = ["<PAD>", "<UNK>", *chars]
    table = np.zeros((len(id2unit), 5), dtype=np.float32)
    table[:, 1] = 1.0
    for i, unit in enumerate(id2unit):
        if unit in SENTENCE_ENDS:
            table[i, 2] = 2.0
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "units"], ["scores"], axis=0),
            helper.make_node("Mul", ["features", "zero"], ["ignored"]),
            helper.make_node("Add", ["scores", "ignored"], ["logits"]),
        ],
        "tiny_sbd",
        [
            helper.make_tensor_value_info("units", TensorProto.INT64, ["batch", "chars"]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", "chars", 1]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "chars", 5])],
        initializer=[
            helper.make_tensor("table", TensorProto.FLOAT, table.shape, table.flatten().tolist()),
            helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by any onnxruntime of the last years
    vocab = {
        "lang": lang,
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_id2unit": id2unit,
        "_unit2id": {u: i for i, u in enumerate(id2unit)},
    }
    config = {"feat_funcs": ["space_before"], "max_seqlen": 1000, "batch_size": 32}
    for key, value in (
        ("lang_code", lang),
        ("config", json.dumps(config)),
        ("vocab", json.dumps(vocab, ensure_ascii=False)),
        ("lexicon", "null"),
    ):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_tiny_package(
    out_dir: Path, from_code: str = "zh", to_code: str = "en", *, version: str = "0.1", vocab_size: int = 220
) -> Path:
    """Write `translate-<from>_<to>-tiny.argosmodel` into `out_dir` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"translate-{from_code}_{to_code}-tiny"
    root = out_dir / name
    (root / "minisbd").mkdir(parents=True, exist_ok=True)
    sp_model = _train_sentencepiece(out_dir, vocab_size)
    (root / "sentencepiece.model").write_bytes(sp_model.read_bytes())
    vocab_file = sp_model.with_suffix(".vocab")
    vocab = [line.split("\t", 1)[0] for line in vocab_file.read_text(encoding="utf-8").splitlines()]
    _build_ctranslate2(root / "model", vocab)
    _build_minisbd(root / "minisbd" / f"{from_code}.onnx", from_code)
    metadata = {
        "package_version": version,
        "argos_version": "1.9",
        "from_code": from_code,
        "from_name": {"zh": "Chinese", "ar": "Arabic", "en": "English"}.get(from_code, from_code),
        "to_code": to_code,
        "to_name": {"zh": "Chinese", "ar": "Arabic", "en": "English"}.get(to_code, to_code),
        "type": "translate",
        "links": [],
    }
    (root / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    archive = out_dir / f"{name}.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, Path(name) / path.relative_to(root))
    return archive


if __name__ == "__main__":  # build one by hand: python tests/argos_tiny.py OUT_DIR [from to]
    import sys

    args = sys.argv[1:]
    print(build_tiny_package(Path(args[0]), *(args[1:3] or ("zh", "en"))))
