"""Language stage benchmark, all figures measured in this one run:

1. batched translation (`Translator.translate_many`, one CTranslate2 call for all sentences)
   against argostranslate's own one-call-per-string path, on the same tiny random-weight
   package built offline (tests/argos_tiny.py); goal >= 5x;
2. detection lines per second;
3. how long `import argostranslate.translate` takes in a fresh interpreter (why it is lazy).

    .venv/bin/python benchmarks/bench_language.py [--texts 48] [--rounds 3] [--detect-lines 2000]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dltheory_digest.language import Glossary, Translator, detect, install_from_file  # noqa: E402
from tests.argos_tiny import build_tiny_package  # noqa: E402

_ZH = "理解过参数化神经网络为何能泛化梯度下降优化模型损失函数训练数据随机特征表示能力深度学习理论"
_LINES = [
    "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets 这篇文章首次报告了顿悟现象。",
    "本文研究了过参数化网络的泛化界，作者使用 NTK 与 PAC-Bayes 工具给出新的上界。",
    "Neural Ordinary Differential Equations",
    "يقدم هذا البحث دراسة نظرية لظاهرة الانحدار المزدوج في نماذج التعلم الآلي.",
    "이번 글에서는 Understanding Deep Learning Requires Rethinking Generalization 논문을 리뷰합니다.",
    "Une analyse théorique de la généralisation des réseaux de neurones surparamétrés",
    "深層学習の汎化性能について、NTK の観点から解説する。",
    "В этой статье мы рассматриваем ядро нейронной касательной (NTK) и его свойства.",
]


def _texts(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_ZH) for _ in range(rng.randint(8, 18))) + "。" for _ in range(count)]


def bench_translation(count: int, rounds: int = 3) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        archive = build_tiny_package(Path(tmp) / "build", "zh", "en")
        packages = Path(tmp) / "packages"
        install_from_file(archive, packages)
        translator = Translator(packages_dir=packages, glossary=Glossary())
        engine = translator.engine("zh", "en")
        texts = [translator.prepare(t, "zh", "en") for t in _texts(count)]
        engine.translate_batch(texts[:2])  # load the model and splitter outside the timing
        engine.translate_one(texts[0])

        # Rounds alternate the two paths; the best round of each is kept, since other
        # processes on a shared machine only ever add time.
        one_by_one = in_batch = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            singles = [engine.translate_one(t) for t in texts]
            one_by_one = min(one_by_one, time.perf_counter() - start)
            start = time.perf_counter()
            batched = translator.translate_many(texts, "zh", "en")
            in_batch = min(in_batch, time.perf_counter() - start)

        same = sum(" ".join(s.split()) == b.english for s, b in zip(singles, batched, strict=True))
        print(f"translation of {count} texts on the same tiny model, best of {rounds} rounds "
              f"({same}/{count} identical outputs):")  # fmt: skip
        print(
            f"  one call per string (argostranslate): {one_by_one:.2f} s = {count / one_by_one:.1f} texts/s"
        )
        print(f"  batched translate_many:               {in_batch:.2f} s = {count / in_batch:.1f} texts/s")
        print(f"  speed-up: {one_by_one / in_batch:.1f}x (goal >= 5x)")
        return one_by_one, in_batch


def bench_detection(lines: int) -> float:
    sample = (_LINES * (lines // len(_LINES) + 1))[:lines]
    # distinct strings, so no cache anywhere can help
    sample = [f"{line} {i}" for i, line in enumerate(sample)]
    detect(sample[0])
    start = time.perf_counter()
    for line in sample:
        detect(line)
    elapsed = time.perf_counter() - start
    print(f"detection: {lines} lines in {elapsed:.2f} s = {lines / elapsed:.0f} lines/s")
    return elapsed


def bench_import() -> None:
    code = "import time; t = time.perf_counter(); import argostranslate.translate; print(time.perf_counter() - t)"
    env_dir = tempfile.mkdtemp()
    env = {"HOME": env_dir, "XDG_DATA_HOME": env_dir, "XDG_CONFIG_HOME": env_dir, "XDG_CACHE_HOME": env_dir,
           "ARGOS_PACKAGES_DIR": env_dir + "/packages", "PATH": "/usr/bin:/bin"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    seconds = float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")
    out = subprocess.run(
        [sys.executable, "-c", "import time; t = time.perf_counter(); import dltheory_digest.language; "
         "print(time.perf_counter() - t)"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    ours = float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")
    print(f"import argostranslate.translate: {seconds:.2f} s; import dltheory_digest.language: {ours:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--detect-lines", type=int, default=2000)
    args = parser.parse_args()
    bench_translation(args.texts, args.rounds)
    bench_detection(args.detect_lines)
    bench_import()


if __name__ == "__main__":
    main()
