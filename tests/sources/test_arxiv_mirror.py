"""arxiv_mirror on seed 003 (text rendering, read in place) and on an HTML page of that shape."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dltheory_digest.models import ItemKind
from dltheory_digest.sources import REGISTRY

KIND = REGISTRY["arxiv_mirror"]

SEED_003_RELATED = [
    ("A Unified Framework for Neural Computation and Learning Over Time", "2024-09-18T14:57:13+00:00"),
    ("Artificial Neural Network and Deep Learning: Fundamentals and Theory", "2024-08-12T21:06:59+00:00"),
    ("Understanding Deep Learning via Notions of Rank", "2024-08-04T18:47:55+00:00"),
    ("TASI Lectures on Physics for Machine Learning", "2024-07-31T18:00:22+00:00"),
    ("Mathematical theory of deep learning", "2024-07-25T20:37:12+00:00"),
    ("Foundations and Frontiers of Graph Learning Theory", "2024-07-03T14:07:41+00:00"),
    (
        "Envisioning Future Deep Learning Theories: Some Basic Concepts and Characteristics",
        "2021-12-17T19:51:26+00:00",
    ),
    ("Credit Assignment in Neural Networks through Deep Feedback Control", "2021-06-15T05:30:17+00:00"),
    ("What can linearized neural networks actually say about generalization?", "2021-06-12T13:05:11+00:00"),
    ("Recent advances in deep learning theory", "2020-12-20T14:16:41+00:00"),
    ("A Chain Graph Interpretation of Real-World Neural Networks", "2020-06-30T14:46:08+00:00"),
]


def test_seed_003_main_paper_and_related(shared_dir: Path) -> None:
    (path,) = (shared_dir / "seeds").glob("003_*.txt")
    result = KIND.parse_bytes(path.read_bytes(), source_id="mirror")
    assert not result.warnings
    main, *related = result.items
    assert (main.kind, main.arxiv_id, main.version) == (ItemKind.PAPER, "2408.13767", 2)
    assert main.title == (
        "Lecture Notes on Linear Neural Networks: A Tale of Optimization and Generalization in Deep Learning"
    )
    assert main.authors == ("Nadav Cohen", "Noam Razin")
    assert main.updated == dt.datetime(2024, 11, 6, 15, 2, 37, tzinfo=dt.UTC)
    assert main.text.startswith("These notes are based on a lecture delivered by NC on March 2021")
    extra = dict(main.extra)
    assert extra["score"] == "14.909298522361306"
    assert extra["license"] == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert extra["abstract summary"].endswith("optimization and generalization in deep learning.")
    got = [(item.title, item.published.isoformat() if item.published else None) for item in related]
    assert got == SEED_003_RELATED
    # the bracketed numbers are scores, never arXiv ids
    assert all(item.kind is ItemKind.MENTION and item.arxiv_id is None for item in related)
    assert dict(related[0].extra)["score"] == "56.44910327178975"
    assert related[0].text.startswith("Hamiltonian Learning is a novel unified framework")
    assert related[0].text.endswith("(iii) open to novel perspectives.")


def test_html_page_takes_ids_from_links_only(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "arxiv_mirror_2408.13767.html").read_bytes()
    result = KIND.parse_bytes(content, url="https://mirror.example/paper/2408.13767", source_id="mirror")
    main, *related = result.items
    assert (main.arxiv_id, main.version, main.authors) == ("2408.13767", 2, ("Nadav Cohen", "Noam Razin"))
    assert dict(main.extra)["abstract summary"] == (
        "Lecture notes presenting a theory of linear neural networks. They cover optimization and generalization."
    )
    assert [(r.title, r.arxiv_id, r.version) for r in related] == [
        ("Recent advances in deep learning theory", "2012.10931", None),
        ("Neural Tangent Kernel: Convergence and Generalization in Neural Networks", "1806.07572", 4),
        ("Deep Double Descent: Where Bigger Models and More Data Hurt", None, None),
    ]
    assert related[0].url == "https://arxiv.org/abs/2012.10931"
    assert (
        related[0].text
        == "A review of recent theoretical results on deep learning. The results are grouped by approach."
    )
    assert related[2].published == dt.datetime(2019, 12, 4, tzinfo=dt.UTC)


def test_changed_layout_warns() -> None:
    result = KIND.parse_bytes(b"<html><body><p>Service unavailable</p></body></html>")
    assert result.items == ()
    assert "0 items parsed from a 200 response" in result.warnings


def test_the_date_of_a_first_version_is_its_publication_date(shared_dir: Path) -> None:
    (path,) = (shared_dir / "seeds").glob("003_*.txt")
    (main, *_) = KIND.parse_bytes(path.read_bytes(), source_id="mirror").items
    # seed 003 shows v2: its date is that version's, the first version's date is not on the page
    assert (main.version, main.published) == (2, None)
    page = (
        "Neural Tangent Kernel: Convergence and Generalization in Neural Networks\n"
        "- URL: http://arxiv.org/abs/1806.07572v1\n"
        "- Date: Wed, 20 Jun 2018\n"
        "- Title: Neural Tangent Kernel: Convergence and Generalization in Neural Networks\n"
        "- Authors: Arthur Jacot, Franck Gabriel, Clément Hongler\n"
        "Related papers\n"
        "- Deep Double Descent: Where Bigger Models and More Data Hurt [12.5]\n"
    )
    (first, _) = KIND.parse_bytes(page.encode(), source_id="mirror").items
    day = dt.datetime(2018, 6, 20, tzinfo=dt.UTC)
    assert (first.version, first.published, first.updated) == (1, day, day)
