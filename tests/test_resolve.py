"""Mentions -> papers against a local server that speaks the arXiv API's Atom format.

The server holds a handful of real papers (ids, titles, authors, categories), answers
`id_list` lookups and `ti:"..."` title searches, and answers a malformed id with arXiv's
error feed and HTTP 400. Requests go through the project's PoliteClient.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import pytest

from dltheory_digest.config import Politeness
from dltheory_digest.errors import FetchError
from dltheory_digest.fetch import PoliteClient
from dltheory_digest.models import Item, ItemKind, NoteKind, Paper, RawPage, TitleMiss
from dltheory_digest.resolve import (
    contact_email,
    crossref_paper,
    crossref_preprints,
    crossref_work_url,
    differing_words,
    first_author_matches,
    normalize_title,
    paper_from_item,
    resolve,
    title_search_url,
    title_similarity,
    with_doi_papers,
)
from dltheory_digest.sources.arxiv_rss import KIND as RSS


@dataclass(frozen=True)
class Record:
    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    published: str
    doi: str | None = None


PAPERS = {
    r.arxiv_id: r
    for r in (
        Record(
            "1806.07572",
            1,
            "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
            ("Arthur Jacot", "Franck Gabriel", "Clément Hongler"),
            ("cs.LG", "cs.NE", "math.PR", "stat.ML"),
            "2018-06-20T00:00:00Z",
        ),
        Record(
            "1611.03530",
            2,
            "Understanding deep learning requires rethinking generalization",
            ("Chiyuan Zhang", "Samy Bengio", "Moritz Hardt", "Benjamin Recht", "Oriol Vinyals"),
            ("cs.LG",),
            "2016-11-10T00:00:00Z",
        ),
        Record(
            "1902.06720",
            1,
            "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent",
            (
                "Jaehoon Lee",
                "Lechao Xiao",
                "Samuel S. Schoenholz",
                "Yasaman Bahri",
                "Roman Novak",
                "Jascha Sohl-Dickstein",
                "Jeffrey Pennington",
            ),
            ("stat.ML", "cs.LG"),
            "2019-02-18T00:00:00Z",
        ),
        Record(
            "1912.02292",
            1,
            "Deep Double Descent: Where Bigger Models and More Data Hurt",
            (
                "Preetum Nakkiran",
                "Gal Kaplun",
                "Yamini Bansal",
                "Tristan Yang",
                "Boaz Barak",
                "Ilya Sutskever",
            ),
            ("cs.LG", "cs.CV", "cs.NE", "stat.ML"),
            "2019-12-04T00:00:00Z",
        ),
        Record(
            "hep-th/9711200",
            1,
            "The Large N Limit of Superconformal Field Theories and Supergravity",
            ("Juan M. Maldacena",),
            ("hep-th",),
            "1997-11-27T00:00:00Z",
            doi="10.1023/A:1026654312961",
        ),
        Record(
            "2106.10165",
            1,
            "The Principles of Deep Learning Theory",
            ("Daniel A. Roberts", "Sho Yaida", "Boris Hanin"),
            ("cs.LG", "hep-th", "stat.ML"),
            "2021-06-18T00:00:00Z",
        ),
        Record(
            "1703.00887",
            1,
            "How to Escape Saddle Points Efficiently",
            ("Chi Jin", "Rong Ge", "Praneeth Netrapalli", "Sham M. Kakade", "Michael I. Jordan"),
            ("cs.LG", "math.OC", "stat.ML"),
            "2017-03-02T00:00:00Z",
        ),
    )
}
# ids this server answers with arXiv's "incorrect id format" error feed
REJECTED = {"1501.99999"}


def entry_xml(r: Record) -> str:
    authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in r.authors)
    categories = "".join(
        f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in r.categories
    )
    doi = f"<arxiv:doi>{r.doi}</arxiv:doi>" if r.doi else ""
    return (
        f"<entry><id>http://arxiv.org/abs/{r.arxiv_id}v{r.version}</id><title>{escape(r.title)}</title>"
        f"<updated>{r.published}</updated><summary>Abstract of {r.arxiv_id}.</summary>{categories}"
        f'<published>{r.published}</published>{doi}<arxiv:primary_category term="{r.categories[0]}"/>'
        f"{authors}</entry>"
    )


def feed_xml(entries: list[str], total: int) -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">'
        "<id>https://arxiv.org/api/test</id><title>arXiv Query</title><updated>2026-11-22T00:00:00Z</updated>"
        f"<opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage>"
        f"<opensearch:totalResults>{total}</opensearch:totalResults>"
        "<opensearch:startIndex>0</opensearch:startIndex>" + "".join(entries) + "</feed>"
    ).encode()


def error_xml(message: str) -> bytes:
    slug = message.replace(" ", "_")
    return feed_xml(
        [
            f"<entry><id>https://arxiv.org/api/errors#{slug}</id><title>Error</title>"
            f"<summary>{escape(message)}</summary><updated>2026-11-22T00:00:00Z</updated>"
            "<author><name>arXiv api core</name></author></entry>"
        ],
        1,
    )


@dataclass
class FakeArxiv:
    base: str
    requests: list[dict[str, list[str]]] = field(default_factory=list)

    def id_lists(self) -> list[list[str]]:
        return [q["id_list"][0].split(",") for q in self.requests if q.get("id_list", [""])[0]]

    def searches(self) -> list[str]:
        return [q["search_query"][0] for q in self.requests if q.get("search_query", [""])[0]]


class Handler(BaseHTTPRequestHandler):
    server_state: FakeArxiv

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        self.server_state.requests.append(query)
        ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
        status, body = 200, b""
        if ids:
            bad = next((i for i in ids if i in REJECTED), None)
            if bad:
                status, body = 400, error_xml(f"incorrect id format for {bad}")
            else:
                found = [entry_xml(PAPERS[i]) for i in ids if i in PAPERS]
                body = feed_xml(found, len(found))
        else:
            search = query.get("search_query", [""])[0]
            limit = int(query.get("max_results", ["10"])[0])
            phrase = re.fullmatch(r'ti:"(.*)"', search)
            if phrase:  # every word of the phrase in the title
                words = set(normalize_title(phrase.group(1)).split())
                hits = [
                    r for r in PAPERS.values() if words and words <= set(normalize_title(r.title).split())
                ]
            else:  # ti:a OR ti:b ...: titles with most of the words first
                terms = {normalize_title(t) for t in re.findall(r"ti:(\w+)", search)}

                def overlap(r: Record) -> int:
                    return len(terms & set(normalize_title(r.title).split()))

                hits = sorted((r for r in PAPERS.values() if overlap(r)), key=overlap, reverse=True)
            body = feed_xml([entry_xml(r) for r in hits[:limit]], len(hits))
        self.send_response(status)
        self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    state = FakeArxiv(base="")
    with serving(type("BoundHandler", (Handler,), {"server_state": state})) as root:
        state.base = f"{root}/api/query"
        yield state


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` served on a free port of 127.0.0.1, as `http://127.0.0.1:PORT`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fetch() -> Iterator[Callable[[str], bytes]]:
    client = PoliteClient(respect_robots=False, max_retries=0)
    no_wait = Politeness(min_interval=0.0)
    yield lambda url: client.get(url, source_id="arxiv-resolver", politeness=no_wait).content
    client.close()


def mention(title: str, **fields: object) -> Item:
    return Item(source_id=str(fields.pop("source_id", "notes")), kind=ItemKind.MENTION, title=title, **fields)  # type: ignore[arg-type]


def test_ids_in_batches_deduplicated_versions_and_arxiv_dois(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    items = [
        mention("NTK", arxiv_id="1806.07572", version=3),
        mention("NTK again", arxiv_id="1806.07572"),
        mention("rethinking", arxiv_id="1611.03530", version=1),
        mention("the book", doi="10.48550/arxiv.2106.10165"),
        mention("AdS/CFT", arxiv_id="hep-th/9711200"),
        mention("double descent", arxiv_id="1912.02292", source_id="zhihu-reading-list"),
    ]
    result = resolve(items, fetch, batch_size=2, api_base=arxiv.base)
    # five distinct ids, two per call, each asked once
    assert arxiv.id_lists() == [
        ["1806.07572", "1611.03530"],
        ["2106.10165", "hep-th/9711200"],
        ["1912.02292"],
    ]
    assert sorted(result.papers) == ["1611.03530", "1806.07572", "1912.02292", "2106.10165", "hep-th/9711200"]
    ntk = result.papers["1806.07572"]
    assert ntk.title == "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"
    assert ntk.authors == ("Arthur Jacot", "Franck Gabriel", "Clément Hongler")
    assert ntk.key == "arxiv:1806.07572" and ntk.url == "https://arxiv.org/abs/1806.07572"
    # an id without version returns the latest one
    assert result.papers["1611.03530"].version == 2
    assert result.papers["hep-th/9711200"].doi == "10.1023/a:1026654312961"
    methods = [(r.source_id, r.arxiv_id, r.method, r.score) for r in result.resolutions]
    assert methods == [
        ("notes", "1806.07572", "arxiv_id", 1.0),
        ("notes", "1806.07572", "arxiv_id", 1.0),
        ("notes", "1611.03530", "arxiv_id", 1.0),
        ("notes", "2106.10165", "doi", 1.0),
        ("notes", "hep-th/9711200", "arxiv_id", 1.0),
        ("zhihu-reading-list", "1912.02292", "arxiv_id", 1.0),
    ]
    assert result.unresolved == 0 and result.warnings == ()


def test_known_papers_are_not_fetched_again_unless_newer(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    known = {
        "1806.07572": Paper(key="arxiv:1806.07572", title="NTK (stored)", arxiv_id="1806.07572", version=1),
        "1611.03530": Paper(key="arxiv:1611.03530", title="stored", arxiv_id="1611.03530", version=1),
    }
    items = [
        mention("NTK", arxiv_id="1806.07572"),
        mention("rethinking v2", arxiv_id="1611.03530", version=2),  # newer than the stored v1
    ]
    result = resolve(items, fetch, known=known, api_base=arxiv.base)
    assert arxiv.id_lists() == [["1611.03530"]]
    assert result.papers["1806.07572"].title == "NTK (stored)"
    assert result.papers["1611.03530"].version == 2
    assert result.resolutions[0].detail == "1806.07572 from known papers"
    assert result.resolutions[1].detail == "1611.03530 from arXiv API"


def test_rejected_id_is_dropped_and_the_batch_retried(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    items = [mention("x", arxiv_id="1501.99999"), mention("wide", arxiv_id="1902.06720")]
    result = resolve(items, fetch, api_base=arxiv.base)
    assert arxiv.id_lists() == [["1501.99999", "1902.06720"], ["1902.06720"]]
    rejected, wide = result.resolutions
    assert (rejected.method, rejected.arxiv_id, rejected.detail) == (
        "unresolved",
        None,
        "arXiv has no paper 1501.99999",
    )
    assert (wide.method, wide.arxiv_id) == ("arxiv_id", "1902.06720")
    assert result.warnings == (
        "arXiv lookup: rejected id '1501.99999': arXiv API error: incorrect id format for 1501.99999",
    )


def test_unknown_and_invalid_ids_stay_unresolved_and_counted(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    items = [
        mention("nope", arxiv_id="2101.00001", source_id="a"),
        mention("bad", arxiv_id="2113.00001", source_id="a"),  # month 13: never asked for
        mention("NTK", arxiv_id="1806.07572", source_id="b"),
    ]
    result = resolve(items, fetch, api_base=arxiv.base)
    assert arxiv.id_lists() == [["2101.00001", "1806.07572"]]
    assert [r.method for r in result.resolutions] == ["unresolved", "unresolved", "arxiv_id"]
    assert result.resolutions[0].detail == "arXiv has no paper 2101.00001"
    assert result.resolutions[1].detail == "'2113.00001' is not a valid arXiv id"
    assert result.unresolved == 2
    assert result.unresolved_by_source() == {"a": 2}


def test_journal_doi_matches_a_fetched_paper_and_otherwise_stays_unresolved(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    items = [
        mention("Maldacena 1998", arxiv_id="hep-th/9711200"),
        mention("", doi="10.1023/a:1026654312961"),  # the journal DOI of the paper above
        mention("", doi="10.1007/s10107-006-0706-8"),  # a journal paper arXiv cannot look up
    ]
    result = resolve(items, fetch, api_base=arxiv.base)
    _, by_doi, journal_only = result.resolutions
    assert (by_doi.method, by_doi.arxiv_id) == ("doi", "hep-th/9711200")
    assert journal_only.method == "unresolved"
    assert journal_only.detail == "DOI 10.1007/s10107-006-0706-8: arXiv cannot be searched by DOI"
    assert arxiv.searches() == []  # no title to search with


def test_title_search_accepts_close_titles_with_matching_first_author(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    items = [
        mention(
            "Neural Tangent Kernels: Convergence and Generalisation in Neural Networks", authors=("A. Jacot",)
        ),
        mention("How to escape saddle points efficiently.", authors=("Jin, Chi",)),
        mention("the principles of deep learning theory"),
    ]
    result = resolve(items, fetch, api_base=arxiv.base)
    assert [(r.method, r.arxiv_id) for r in result.resolutions] == [
        ("title_search", "1806.07572"),
        ("title_search", "1703.00887"),
        ("title_search", "2106.10165"),
    ]
    ntk = result.resolutions[0]
    assert ntk.score is not None and 0.9 <= ntk.score < 1.0
    assert result.resolutions[1].score == 1.0
    assert set(result.papers) == {"1806.07572", "1703.00887", "2106.10165"}
    # the misspelt title needs the any-word search after the phrase found nothing
    searches = arxiv.searches()
    assert searches[:2] == [
        'ti:"Neural Tangent Kernels Convergence and Generalisation in Neural Networks"',
        "ti:Neural OR ti:Tangent OR ti:Kernels OR ti:Convergence OR ti:Generalisation OR ti:Networks",
    ]
    assert len(searches) == 4
    assert all(q["max_results"] == ["5"] for q in arxiv.requests)


def test_title_search_rejects_weak_matches_and_other_first_authors(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    items = [
        mention("Deep Double Descent", source_id="notes"),  # a prefix, far below the threshold
        mention(
            "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
            authors=("Yann LeCun",),
            source_id="notes",
        ),
        mention("A paper nobody wrote about kernels", source_id="notes"),
        mention("神经正切核", source_id="zhihu"),  # no English title to search with
        mention("our paper", source_id="blog"),  # too short to be a title
        mention("Lee et al. 2016", source_id="blog"),  # a citation, not a title
    ]
    result = resolve(items, fetch, api_base=arxiv.base)
    assert [r.method for r in result.resolutions] == ["unresolved"] * 6
    weak, wrong_author, nothing, chinese, short, citation = result.resolutions
    assert weak.score is not None and weak.score < 0.9
    assert weak.detail.startswith("best title match 1912.02292")
    assert wrong_author.score == 1.0
    assert wrong_author.detail.endswith("but first author 'Yann LeCun' does not")
    assert nothing.detail == "title search found nothing"
    assert chinese.detail == "no title to search by ('神经正切核' is not a paper title)"
    assert short.detail == "no title to search by ('our paper' is not a paper title)"
    assert citation.detail == "no title to search by ('Lee et al. 2016' is not a paper title)"
    assert result.papers == {}
    assert result.unresolved == 6 and result.unresolved_by_source() == {"notes": 3, "zhihu": 1, "blog": 2}
    assert len(arxiv.searches()) == 6  # phrase, then any-word, for each searchable title


MODERN_MATHEMATICS = Record(
    "2105.04026",
    1,
    "The Modern Mathematics of Deep Learning",
    ("Julius Berner", "Philipp Grohs", "Gitta Kutyniok", "Philipp Petersen"),
    ("cs.LG", "stat.ML"),
    "2021-05-09T00:00:00Z",
)


def answering(*records: Record) -> Callable[[str], bytes]:
    """An arXiv API that answers every title search with `records`, whatever was asked."""
    return lambda url: feed_xml([entry_xml(r) for r in records], len(records))


def test_a_title_one_content_word_off_is_another_paper() -> None:
    # 0.90 similar, yet "Modern" names another paper (a 2018 page's lecture video heading)
    result = resolve([mention("The mathematics of deep learning")], answering(MODERN_MATHEMATICS))
    (refused,) = result.resolutions
    assert refused.method == "unresolved" and refused.score is not None and refused.score >= 0.9
    assert refused.detail.endswith("differs in 'modern'")
    # a first author the page names confirms it (a journal version's title may add a word)
    named = mention("The mathematics of deep learning", authors=("J. Berner",))
    assert resolve([named], answering(MODERN_MATHEMATICS)).resolutions[0].arxiv_id == "2105.04026"
    # plurals, function words, hyphens and a typo in a long word are the same title
    close = [
        ("Loss surface of neural networks", "Loss surfaces of neural networks"),
        ("Vanishing gradients problem", "The vanishing gradient problem"),
        ("Energy landscapes of deep networks", "Energy landscapes for deep networks"),
        ("Trnasitions in non-convex landscapes", "Transitions in nonconvex landscapes"),
    ]
    for written, real in close:
        record = Record("1412.0233", 1, real, ("Anna Choromanska",), ("cs.LG",), "2014-11-30T00:00:00Z")
        (found,) = resolve([mention(written)], answering(record)).resolutions
        assert (found.method, found.arxiv_id) == ("title_search", "1412.0233"), written
    # the most similar title that also has the same words wins over a closer-scoring other paper
    record = Record(
        "1711.00001",
        1,
        "The Mathematics of Deep Learning",
        ("René Vidal",),
        ("cs.LG",),
        "2017-12-13T00:00:00Z",
    )
    (found,) = resolve(
        [mention("The mathematics of deep learning")], answering(MODERN_MATHEMATICS, record)
    ).resolutions
    assert found.arxiv_id == "1711.00001"


def test_a_paper_posted_after_the_page_that_mentions_it_is_not_its_paper() -> None:
    def post(day: dt.datetime) -> Item:
        cited = (mention("The Modern Mathematics of Deep Learning", source_id="blog"),)
        return Item(
            "blog", ItemKind.POST, "Lecture videos", url="https://blog.example/p", published=day, cited=cited
        )

    fetch = answering(MODERN_MATHEMATICS)
    early = resolve([post(dt.datetime(2018, 11, 30, tzinfo=dt.UTC))], fetch).resolutions[0]
    assert early.method == "unresolved"
    assert early.detail.endswith("but first posted 2021-05-09, after the page (2018-11-30)")
    # a day or two of time zones and announcement delay is no contradiction, nor is the week
    # POSTED_AFTER_MENTION allows; a month is
    late = resolve([post(dt.datetime(2021, 5, 8, tzinfo=dt.UTC))], fetch).resolutions[0]
    assert (late.method, late.arxiv_id) == ("title_search", "2105.04026")
    week = resolve([post(dt.datetime(2021, 5, 3, tzinfo=dt.UTC))], fetch).resolutions[0]
    assert week.method == "title_search"
    month = resolve([post(dt.datetime(2021, 4, 9, tzinfo=dt.UTC))], fetch).resolutions[0]
    assert month.method == "unresolved"
    # an arXiv mirror's related paper gives the paper's own date: one posted well after is another
    dated_mention = mention(
        "The Modern Mathematics of Deep Learning", published=dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    )
    (dated,) = resolve([dated_mention], fetch).resolutions
    assert dated.method == "unresolved"
    assert dated.detail.endswith("but first posted 2021-05-09, after the date given with it (2019-01-01)")


def test_a_post_edited_later_dates_its_new_citations_by_its_update() -> None:
    # a 2020 reading list updated in June 2024 to add KAN (first posted 2024-04-30)
    kan = Record(
        "2404.19756",
        1,
        "KAN: Kolmogorov-Arnold Networks",
        ("Ziming Liu",),
        ("cs.LG",),
        "2024-04-30T00:00:00Z",
    )
    post = Item(
        "blog",
        ItemKind.POST,
        "A reading list",
        url="https://blog.example/p",
        published=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        updated=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
        cited=(mention("KAN: Kolmogorov-Arnold Networks", source_id="blog"),),
    )
    (found,) = resolve([post], answering(kan)).resolutions
    assert (found.method, found.arxiv_id) == ("title_search", "2404.19756")
    # not updated since 2020: the same citation is refused
    (refused,) = resolve([replace(post, updated=None)], answering(kan)).resolutions
    assert refused.detail.endswith("but first posted 2024-04-30, after the page (2020-01-01)")


def test_differing_words() -> None:
    assert differing_words("The mathematics of deep learning", "The Modern Mathematics of Deep Learning") == [
        "modern"
    ]
    assert differing_words("Attention is not all you need", "Attention is all you need") == ["not"]
    assert differing_words("Theories of deep learning", "Theory of deep learning") == []
    assert differing_words("Deep nets", "Deep net") == []
    assert differing_words("Deep nets", "Deep sets") == ["nets", "sets"]  # short words: no typo allowance
    # a name the title leads with, which a citation leaves out
    assert differing_words("Kolmogorov-Arnold networks", "KAN: Kolmogorov-Arnold Networks") == []
    assert differing_words("BERT: Pre-training of transformers", "Pre-training of transformers") == []
    assert differing_words("KAN: Kolmogorov-Arnold nets", "KAT: Kolmogorov-Arnold nets") == ["kan", "kat"]
    # numbers written as words, digits or Roman numerals
    assert differing_words("Learning two-layer networks", "Learning 2-Layer Networks") == []
    assert differing_words("Theory of deep learning 3: puzzles", "Theory of Deep Learning III: Puzzles") == []
    assert differing_words("Learning two-layer networks", "Learning 3-Layer Networks") == ["two", "3"]
    # a digit off is another model or paper, not a typo, and a number glued to the next word is
    # not that word misspelt ("3 layer" is not "layer")
    assert differing_words("GPT-3 language models are few-shot learners", "GPT-4 language models are few-shot learners") == ["3", "4"]  # fmt: skip
    assert differing_words("Learning 2-layer networks", "Learning 3-layer networks") == ["2", "3"]
    assert differing_words("Qwen2 technical report", "Qwen2.5 technical report") == ["5"]
    # two words written as one match exactly, with no typo allowance ("kmeans" is not "means")
    assert differing_words("Robust k means clustering", "Robust kmeans clustering") == []
    assert differing_words("Robust k means clustering", "Robust means clustering") == ["k"]
    # digits inside a name are not split off by normalizing: the digit rule itself decides
    assert differing_words("Llama2 technical report", "Llama3 technical report") == ["llama2", "llama3"]
    assert differing_words("Pruning ResNet50 networks", "Pruning ResNet56 networks") == [
        "resnet50",
        "resnet56",
    ]
    assert differing_words("Mamba: linear-time sequence modeling", "Mamba-2: linear-time sequence modeling") == ["2"]  # fmt: skip
    assert differing_words("Catapult dynamics and phase trnasitions", "Catapult Dynamics and Phase Transitions") == []  # fmt: skip
    # "Comment:" or "Erratum:" before a title makes another paper of it, not a name of it
    assert differing_words("Comment: Deep learning generalizes", "Deep learning generalizes") == ["comment"]
    assert differing_words("Erratum: Deep learning generalizes", "Deep learning generalizes") == ["erratum"]


@pytest.mark.parametrize(
    ("page", "arxiv"),
    [
        ("Õ(√T) Regret for Linear Bandits with ≤ d Features", r"$\widetilde{O}(\sqrt{T})$ Regret for Linear Bandits with $\le d$ Features"),
        ("Õ(d) sample complexity", r"$\tilde{O}(d)$ sample complexity"),
        ("Sign networks with ±1 weights", r"Sign networks with $\pm 1$ weights"),
        ("Margins with ε ≥ 0", r"Margins with $\varepsilon \ge 0$"),
        ("Learning f → g maps", r"Learning $f \rightarrow g$ maps"),
    ],
)  # fmt: skip
def test_a_formula_written_in_unicode_is_arxivs_tex(page: str, arxiv: str) -> None:
    """A page shows the title as arXiv's abstract page renders it; the API gives the TeX, whose
    macro names (widetilde, le, pm) are no words of the title."""
    assert differing_words(page, arxiv) == []


def test_a_formula_that_says_something_else_still_differs() -> None:
    assert differing_words("ℓ1 regularized networks", r"$\ell_2$ regularized networks") == ["l1", "l2"]


def test_a_title_without_its_leading_name_or_with_numbers_in_words_is_the_same_paper() -> None:
    pairs = [
        ("Kolmogorov-Arnold networks", "KAN: Kolmogorov-Arnold Networks"),
        ("Learning two-layer neural networks with SGD", "Learning 2-Layer Neural Networks with SGD"),
        (
            "Theory of deep learning 3: explaining the non-overfitting puzzle",
            "Theory of Deep Learning III: Explaining the Non-Overfitting Puzzle",
        ),
    ]
    for written, real in pairs:
        record = Record("2401.00001", 1, real, ("A Author",), ("cs.LG",), "2024-01-01T00:00:00Z")
        (found,) = resolve([mention(written)], answering(record)).resolutions
        assert (found.method, found.arxiv_id) == ("title_search", "2401.00001"), written


def test_translated_title_is_searched_and_searches_are_cached(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    translated = Item(
        source_id="zhihu",
        kind=ItemKind.MENTION,
        title="深度学习理论原理",
        title_en="The Principles of Deep Learning Theory",
        lang="zh",
    )
    again = mention("The principles of deep learning theory")
    result = resolve([translated, again], fetch, api_base=arxiv.base)
    assert [(r.method, r.arxiv_id) for r in result.resolutions] == [
        ("title_search", "2106.10165"),
        ("title_search", "2106.10165"),
    ]
    assert len(arxiv.searches()) == 1


def test_posts_resolve_the_papers_they_cite(arxiv: FakeArxiv, fetch: Callable[[str], bytes]) -> None:
    post = Item(
        source_id="offconvex",
        kind=ItemKind.POST,
        title="How to Escape Saddle Points Efficiently",
        url="http://offconvex.github.io/2017/07/19/saddle-efficiency/",
        cited=(
            Item("offconvex", ItemKind.MENTION, "our recent work", arxiv_id="1703.00887"),
            Item("offconvex", ItemKind.MENTION, "Nesterov and Polyak 2006", doi="10.1007/s10107-006-0706-8"),
        ),
    )
    other = Item("notes", ItemKind.OTHER, "a lecture video", url="https://www.youtube.com/watch?v=x")
    result = resolve([post, other], fetch, api_base=arxiv.base)
    # the post itself and the video need no resolution; both citations get one
    assert [(r.source_id, r.item_key, r.method, r.arxiv_id) for r in result.resolutions] == [
        ("offconvex", "arxiv:1703.00887", "arxiv_id", "1703.00887"),
        ("offconvex", "mention:|nesterov and polyak 2006", "unresolved", None),
    ]
    # "Nesterov and Polyak 2006" cites, it is not a title: no search is spent on it
    assert result.resolutions[1].detail == "DOI 10.1007/s10107-006-0706-8: arXiv cannot be searched by DOI"
    assert arxiv.searches() == []
    assert result.papers["1703.00887"].authors[0] == "Chi Jin"


@pytest.mark.shared
def test_listing_items_keep_their_own_metadata_when_the_api_lacks_them(
    shared_dir: Path, arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    content = (shared_dir / "fixtures" / "arxiv_rss" / "jmamath-repo_arxiv_cs_lg.xml").read_bytes()
    listing = RSS.parse(
        RawPage("arxiv-cs-lg", "https://rss.arxiv.org/rss/cs.LG", 200, content), RSS.options()
    )
    result = resolve(listing.items, fetch, api_base=arxiv.base)
    assert arxiv.id_lists() == [["2604.21952", "2604.21953", "2604.21956"]]
    assert sorted(result.papers) == ["2604.21952", "2604.21953", "2604.21956"]
    assert result.papers["2604.21953"].authors == ("Blessed Madukoma", "Prasenjit Mitra")
    assert all(r.method == "arxiv_id" and "listing metadata kept" in r.detail for r in result.resolutions)
    # trusting the listing skips the API altogether
    arxiv.requests.clear()
    trusted = resolve(listing.items, fetch, api_base=arxiv.base, listing_sources={"arxiv-cs-lg"})
    assert arxiv.requests == [] and sorted(trusted.papers) == sorted(result.papers)


def test_a_mirror_paper_is_looked_up_on_arxiv_not_trusted_as_a_listing(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    # a mirror shows 1611.03530 at v1 with its own (older) metadata; arXiv has v2 and categories
    mirrored = Item(
        "arxiv-mirror",
        ItemKind.PAPER,
        "Understanding deep learning requires rethinking generalization",
        arxiv_id="1611.03530",
        version=1,
        authors=("Chiyuan Zhang", "Samy Bengio"),
        text="The mirror's copy of the abstract.",
    )
    listed = replace(mirrored, source_id="arxiv-cs-lg", arxiv_id="1806.07572", title="NTK", version=1)
    result = resolve([mirrored, listed], fetch, api_base=arxiv.base, listing_sources={"arxiv-cs-lg"})
    # one batched call, for the mirror's paper only: the arXiv listing's own item is trusted
    assert arxiv.id_lists() == [["1611.03530"]]
    paper = result.papers["1611.03530"]
    assert paper.version == 2 and paper.categories == ("cs.LG",) and paper.primary_category == "cs.LG"
    assert paper.abstract == "Abstract of 1611.03530."
    assert result.papers["1806.07572"].title == "NTK"
    # arXiv without the paper: the mirror's metadata is kept rather than lose it
    arxiv.requests.clear()
    unknown = resolve([replace(mirrored, arxiv_id="2408.13767")], fetch, api_base=arxiv.base)
    assert arxiv.id_lists() == [["2408.13767"]] and unknown.papers["2408.13767"].version == 1


def test_fetch_failures_are_reported_not_raised() -> None:
    def down(url: str) -> bytes:
        raise FetchError("arxiv-resolver", "connection refused", url=url)

    listing_item = Item(
        "arxiv-cs-lg",
        ItemKind.PAPER,
        "The Principles of Deep Learning Theory",
        arxiv_id="2106.10165",
        version=1,
        authors=("Daniel A. Roberts", "Sho Yaida", "Boris Hanin"),
        text="Abstract.",
    )
    items = [listing_item, mention("NTK", arxiv_id="1806.07572"), mention("Deep Double Descent in networks")]
    result = resolve(items, down)
    listed, ntk, titled = result.resolutions
    assert (listed.method, listed.arxiv_id) == ("arxiv_id", "2106.10165")
    assert result.papers["2106.10165"] == paper_from_item(listing_item)
    assert (ntk.method, ntk.arxiv_id, ntk.score) == ("arxiv_id", "1806.07572", None)
    assert "metadata not fetched" in ntk.detail and "connection refused" in ntk.detail
    assert titled.method == "unresolved" and titled.detail.startswith("title search failed")
    assert len(result.warnings) == 2


def test_helpers() -> None:
    assert (
        normalize_title("  Clément's $\\mathcal{O}(n)$ Kernel--Trick! ")
        == "clement s o n kernel trick"  # identity's normalizer: TeX commands go, as in dedup
    )
    # a title written with TeX and one written in Unicode are the same title (they were 0.89)
    assert (
        title_similarity(
            "On the $\\ell_\\infty$ robustness of ReLU nets", "On the ℓ∞ robustness of ReLU nets"
        )
        == 1.0
    )
    assert first_author_matches(("Jacot, Arthur",), ("Arthur Jacot", "Franck Gabriel"))
    assert first_author_matches(("Yaida Sho",), ("Sho Yaida",))  # family name first
    assert not first_author_matches(("Franck Gabriel",), ("Arthur Jacot", "Franck Gabriel"))
    assert first_author_matches((), ("Arthur Jacot",))
    url = title_search_url("Attention AND memory: OR not", base="http://127.0.0.1:1/api/query")
    assert parse_qs(urlsplit(url).query)["search_query"] == ['ti:"Attention and memory or not"']


def test_titles_and_journal_dois_of_known_papers_cost_no_request(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    record = PAPERS["hep-th/9711200"]
    known = {
        record.arxiv_id: Paper(
            key=f"arxiv:{record.arxiv_id}",
            title=record.title,
            arxiv_id=record.arxiv_id,
            authors=record.authors,
            doi="10.1023/a:1026654312961",
        )
    }
    items = [
        mention(
            "The large N limit of superconformal field theories and supergravity", authors=("Maldacena, J.",)
        ),
        mention("", doi="10.1023/a:1026654312961"),
    ]
    result = resolve(items, fetch, known=known, api_base=arxiv.base)
    assert arxiv.requests == []
    by_title, by_doi = result.resolutions
    assert (by_title.method, by_title.arxiv_id, by_title.score) == ("title_search", "hep-th/9711200", 1.0)
    assert by_title.detail == "same title as known paper hep-th/9711200"
    assert (by_doi.method, by_doi.arxiv_id) == ("doi", "hep-th/9711200")
    assert list(result.papers) == ["hep-th/9711200"]


def test_markup_and_remarks_are_never_searched_as_titles(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    items = [
        mention("<script>alert(5)</script>", source_id="notes"),
        mention("[Click me](javascript:alert(4)) Benign overfitting", source_id="notes"),
        mention("Highly recommended for everyone", source_id="notes"),
    ]
    result = resolve(items, fetch, api_base=arxiv.base)
    assert [r.method for r in result.resolutions] == ["unresolved"] * 3
    assert all(r.detail.startswith("no title to search by") for r in result.resolutions)
    assert arxiv.searches() == []


# -- Crossref: journal DOIs arXiv does not know -------------------------------------------


@dataclass
class FakeCrossref:
    """Crossref's `/works/{doi}` on 127.0.0.1: the records of tests/fixtures/resolve, 404 otherwise."""

    base: str
    records: dict[str, bytes]
    requests: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)


class CrossrefHandler(BaseHTTPRequestHandler):
    state: FakeCrossref

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.state.requests.append(self.path)
        self.state.user_agents.append(self.headers.get("User-Agent", ""))
        doi = unquote(parts.path.removeprefix("/works/")).lower()
        body = self.state.records.get(doi)
        status, ctype = (200, "application/json") if body is not None else (404, "text/plain")
        body = body if body is not None else b"Resource not found."
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


CYBENKO = "10.1007/bf02551274"
HORNIK = "10.1016/0893-6080(89)90020-8"
ZHANG_CACM = "10.1145/3446776"
MALDACENA_ATMP = "10.4310/atmp.1998.v2.n2.a1"
NESTEROV_POLYAK = "10.1007/s10107-006-0706-8"


@pytest.fixture
def crossref(fixtures_dir: Path) -> Iterator[FakeCrossref]:
    folder = fixtures_dir / "resolve"
    records = {}
    for path in sorted(folder.glob("crossref_*.json")):
        records[json.loads(path.read_bytes())["message"]["DOI"].lower()] = path.read_bytes()
    records["10.1000/broken-record"] = b'{"status": "ok", "message-type": "work", "message": {"DOI": '
    state = FakeCrossref(base="", records=records)
    with serving(type("BoundCrossref", (CrossrefHandler,), {"state": state})) as root:
        state.base = f"{root}/works"
        yield state


def cited(link_text: str, doi: str, source_id: str = "blog") -> Item:
    return mention(link_text, doi=doi, source_id=source_id, url=f"https://doi.org/{doi}")


def test_a_journal_doi_arxiv_does_not_know_gets_its_paper_from_crossref(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    items = [
        cited("Cybenko 1989", CYBENKO),
        cited("[12]", HORNIK.upper(), source_id="notes"),
        cited("Hornik, Stinchcombe and White 1989", HORNIK),  # the same paper, another link text
    ]
    result = resolve(items, fetch, api_base=arxiv.base, crossref_api_base=crossref.base)
    assert [r.method for r in result.resolutions] == ["crossref"] * 3
    assert all(r.arxiv_id is None and r.score == 1.0 for r in result.resolutions)
    assert result.unresolved == 0 and result.papers == {} and result.warnings == ()
    assert result.resolutions[0].detail == (
        f"DOI {CYBENKO}: 'Approximation by superpositions of a sigmoidal function' from Crossref"
    )
    assert sorted(result.doi_papers) == [CYBENKO, HORNIK]
    cybenko, hornik = result.doi_papers[CYBENKO], result.doi_papers[HORNIK]
    assert cybenko.key == f"doi:{CYBENKO}" and cybenko.arxiv_id is None
    assert cybenko.title == "Approximation by superpositions of a sigmoidal function"
    assert cybenko.authors == ("G. Cybenko",)
    assert cybenko.journal_ref == "Mathematics of Control, Signals, and Systems 2(4), 303-314 (1989)"
    assert cybenko.published is None  # December 1989: no day, so no date a digest would print as one
    assert cybenko.abs_url == "https://doi.org/10.1007/bf02551274"
    assert hornik.authors == ("Kurt Hornik", "Maxwell Stinchcombe", "Halbert White")
    assert hornik.journal_ref == "Neural Networks 2(5), 359-366 (1989)"
    # one request per DOI however often it is cited; the title searches found nothing on arXiv
    assert sorted(crossref.requests) == ["/works/10.1007/bf02551274", "/works/10.1016/0893-6080(89)90020-8"]
    assert len(arxiv.searches()) == 4  # phrase, then words, for each Crossref title


def test_crossref_naming_an_arxiv_preprint_resolves_to_the_arxiv_paper(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    result = resolve(
        [cited("Maldacena 1998", MALDACENA_ATMP)], fetch, api_base=arxiv.base, crossref_api_base=crossref.base
    )
    [found] = result.resolutions
    assert (found.method, found.arxiv_id, found.score) == ("crossref", "hep-th/9711200", 1.0)
    assert found.detail == f"DOI {MALDACENA_ATMP}: Crossref names arXiv preprint hep-th/9711200"
    assert list(result.papers) == ["hep-th/9711200"] and result.doi_papers == {}
    assert arxiv.id_lists() == [["hep-th/9711200"]] and arxiv.searches() == []


def test_a_crossref_title_that_arxiv_finds_is_the_arxiv_paper(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    # the journal version's title adds "(still)"; its first author is the preprint's
    result = resolve(
        [cited("our CACM article", ZHANG_CACM)], fetch, api_base=arxiv.base, crossref_api_base=crossref.base
    )
    [found] = result.resolutions
    assert (found.method, found.arxiv_id) == ("crossref", "1611.03530")
    assert found.score is not None and 0.9 <= found.score < 1.0
    assert found.detail.startswith(f"DOI {ZHANG_CACM}: Crossref title, title search: 1611.03530")
    assert list(result.papers) == ["1611.03530"] and result.doi_papers == {}


def test_lookup_notes_are_typed_by_the_service_that_could_not_be_asked(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    items = [mention("x", arxiv_id="1501.99999"), cited("a broken answer", "10.1000/broken-record")]
    result = resolve(items, fetch, api_base=arxiv.base, crossref_api_base=crossref.base)
    assert [(n.kind, n.text.split(":")[0]) for n in result.notes] == [
        (NoteKind.ARXIV_LOOKUP, "arXiv lookup"),
        (NoteKind.CROSSREF_LOOKUP, "Crossref lookup"),
    ]
    assert result.warnings == tuple(n.text for n in result.notes)


def test_unknown_and_unreadable_dois_are_counted_unresolved_with_their_reason(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    items = [
        cited("Nesterov and Polyak 2006", NESTEROV_POLYAK),  # not in this Crossref: 404
        cited("a broken answer", "10.1000/broken-record"),
        cited("Cybenko 1989", CYBENKO),  # still looked up after both
    ]
    result = resolve(items, fetch, api_base=arxiv.base, crossref_api_base=crossref.base)
    unknown, broken, cybenko = result.resolutions
    assert (unknown.method, unknown.detail) == (
        "unresolved",
        f"DOI {NESTEROV_POLYAK}: unknown to Crossref (HTTP 404)",
    )
    assert broken.method == "unresolved"
    assert broken.detail.startswith("DOI 10.1000/broken-record: unreadable Crossref answer")
    assert cybenko.method == "crossref"
    assert result.unresolved == 2 and result.unresolved_by_source() == {"blog": 2}
    # a 404 is an answer, not an outage: only the unreadable record is an operator's note
    [note] = result.warnings
    assert note.startswith("Crossref lookup: unreadable answer for DOI 10.1000/broken-record")


def test_crossref_down_is_one_note_and_arxiv_resolution_goes_on(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    asked: list[str] = []

    def via_crossref_down(url: str) -> bytes:
        if url.startswith("http://127.0.0.1:9/"):
            asked.append(url)
            raise FetchError(
                "arxiv-metadata", f"could not reach 127.0.0.1 (connection refused): {url}", url=url
            )
        return fetch(url)

    items = [
        cited("Cybenko 1989", CYBENKO),
        mention("NTK", arxiv_id="1806.07572"),
        cited("Hornik et al. 1989", HORNIK),
    ]
    result = resolve(
        items, via_crossref_down, api_base=arxiv.base, crossref_api_base="http://127.0.0.1:9/works"
    )
    cybenko, ntk, hornik = result.resolutions
    assert (ntk.method, ntk.arxiv_id) == ("arxiv_id", "1806.07572")
    assert cybenko.method == hornik.method == "unresolved"
    assert "Crossref unreachable" in cybenko.detail and "connection refused" in cybenko.detail
    assert hornik.detail.startswith(f"DOI {HORNIK}: Crossref not asked (unreachable")
    assert len(asked) == 1  # the second DOI would fail the same way: not asked
    [note] = result.warnings
    assert note.startswith("Crossref lookup: Crossref unreachable") and "connection refused" in note


def test_crossref_lookups_are_capped_per_run(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    items = [cited("one", CYBENKO), cited("two", HORNIK), cited("three", ZHANG_CACM)]
    result = resolve(items, fetch, api_base=arxiv.base, crossref_api_base=crossref.base, crossref_limit=2)
    assert [r.method for r in result.resolutions] == ["crossref", "crossref", "unresolved"]
    assert result.resolutions[2].detail == f"DOI {ZHANG_CACM}: not looked up, 2 Crossref look-ups per run"
    assert len(crossref.requests) == 2


def test_without_a_crossref_base_nothing_is_asked(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    result = resolve([cited("Cybenko 1989", CYBENKO)], fetch, api_base=arxiv.base)
    [unresolved] = result.resolutions
    assert unresolved.detail == f"DOI {CYBENKO}: arXiv cannot be searched by DOI"
    assert crossref.requests == [] and result.doi_papers == {}


def test_crossref_helpers(fixtures_dir: Path) -> None:
    assert crossref_work_url(HORNIK, base="https://api.crossref.org/works/", mailto="me@example.org") == (
        "https://api.crossref.org/works/10.1016/0893-6080(89)90020-8?mailto=me%40example.org"
    )
    assert crossref_work_url("10.1000/a#b?c", base="http://127.0.0.1:1/works") == (
        "http://127.0.0.1:1/works/10.1000/a%23b%3Fc"
    )
    assert contact_email("mailto:ops@example.org") == "ops@example.org"
    assert contact_email("https://github.com/dltheory-digest/dltheory-digest") is None
    record = (fixtures_dir / "resolve/crossref_maldacena_atmp_1998.json").read_bytes()
    assert crossref_preprints(record) == ("hep-th/9711200",)
    # markup in titles, an arXiv DOI or URL as the preprint, a book's publisher, a bare year
    work = {
        "message-type": "work",
        "message": {
            "DOI": "10.1000/X",
            "type": "book",
            "title": ["Kernels <i>and</i> &amp; net<sub>2</sub>works"],
            "abstract": "<jats:title>Abstract</jats:title><jats:p>Kernels meet <i>networks</i>.</jats:p>",
            "subtitle": ["A course"],
            "author": [{"name": "The Consortium"}],
            "publisher": "Press",
            "issued": {"date-parts": [[2004]]},
            "published-online": {"date-parts": [[2004, 2, 30]]},
            "created": {"date-parts": [[2011, 11, 7]]},
            "relation": {
                "has-preprint": [
                    {"id-type": "doi", "id": "10.48550/arXiv.2106.10165"},
                    {"id-type": "uri", "id": "https://arxiv.org/abs/1806.07572v4"},
                    {"id-type": "uri", "id": "https://example.org/preprint"},
                ]
            },
        },
    }
    content = json.dumps(work).encode()
    paper = crossref_paper(content, "10.1000/x")
    assert paper.title == "Kernels and & net2works: A course" and paper.authors == ("The Consortium",)
    assert paper.journal_ref == "Press (2004)" and paper.doi == "10.1000/x" and paper.published is None
    assert paper.abstract == "Kernels meet networks."
    day = json.dumps({"message": {"title": ["T"], "issued": {"date-parts": [[2006, 4, 25]]}}}).encode()
    assert crossref_paper(day, "10.1000/x").published == dt.datetime(2006, 4, 25, tzinfo=dt.UTC)
    assert crossref_preprints(content) == ("2106.10165", "1806.07572")
    for bad in (b"<html>Resource not found.</html>", b'{"message-type": "work-list", "message": {}}', b"{}"):
        with pytest.raises(ValueError):
            crossref_paper(bad, "10.1000/x")
    with pytest.raises(ValueError, match="no title"):
        crossref_paper(b'{"message-type": "work", "message": {"title": []}}', "10.1000/x")


def test_with_doi_papers_gives_a_doi_cluster_the_crossref_record() -> None:
    from dltheory_digest.models import PaperCluster

    record = Paper(
        key=f"doi:{CYBENKO}",
        title="Approximation by superpositions of a sigmoidal function",
        authors=("G. Cybenko",),
        doi=CYBENKO,
        journal_ref="Mathematics of Control, Signals, and Systems 2(4), 303-314 (1989)",
        url=f"https://doi.org/{CYBENKO}",
    )
    cited_only = PaperCluster(Paper(key=f"doi:{CYBENKO}", title="Cybenko 1989", doi=CYBENKO))
    arxiv_paper = PaperCluster(Paper(key="arxiv:1806.07572", title="NTK", arxiv_id="1806.07572", doi=CYBENKO))
    other = PaperCluster(Paper(key="doi:10.1000/other", title="Other 2001", doi="10.1000/other"))
    out = with_doi_papers([cited_only, arxiv_paper, other], {CYBENKO: record})
    assert out[0].paper == record  # key kept: the sent-ledger knows the paper as before
    assert out[1:] == [arxiv_paper, other]


# -- Crossref records kept: a rebuild asks Crossref nothing it answered before --------------


def test_a_stored_crossref_record_is_used_as_is_and_crossref_not_asked_again(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    items = [cited("Cybenko 1989", CYBENKO), cited("Hornik, Stinchcombe and White 1989", HORNIK)]
    first = resolve(items, fetch, api_base=arxiv.base, crossref_api_base=crossref.base)
    assert sorted(first.doi_records) == [CYBENKO, HORNIK]
    record = first.doi_records[CYBENKO]
    assert record.paper == first.doi_papers[CYBENKO] and (record.preprints, record.arxiv_id) == ((), None)
    assert len(crossref.requests) == 2

    # Crossref answering, gone (no base: `crossref_api_base: ""`), or unreachable: the same result
    unreachable = "http://127.0.0.1:9/works"
    for base in (crossref.base, None, unreachable):
        again = resolve(
            items, fetch, api_base=arxiv.base, crossref_api_base=base, known_dois=first.doi_records
        )
        assert again.resolutions == first.resolutions and again.doi_papers == first.doi_papers
        assert again.doi_records == {} and again.warnings == ()
    assert len(crossref.requests) == 2


def test_a_doi_found_on_arxiv_before_needs_neither_crossref_nor_a_title_search(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    """Maldacena's record names its preprint; Zhang et al.'s title was found by an arXiv search.
    Both matches are kept, so a rebuild resolves them from the store with nothing asked."""
    items = [cited("Maldacena 1998", MALDACENA_ATMP), cited("our CACM article", ZHANG_CACM)]
    first = resolve(items, fetch, api_base=arxiv.base, crossref_api_base=crossref.base)
    assert [r.arxiv_id for r in first.resolutions] == ["hep-th/9711200", "1611.03530"]
    assert first.doi_records[MALDACENA_ATMP].preprints == ("hep-th/9711200",)
    assert {d: r.arxiv_id for d, r in first.doi_records.items()} == {
        MALDACENA_ATMP: "hep-th/9711200",
        ZHANG_CACM: "1611.03530",
    }
    arxiv.requests.clear()
    crossref.requests.clear()

    stored = first.papers  # what the store holds after the first build
    again = resolve(
        items,
        fetch,
        api_base=arxiv.base,
        crossref_api_base="http://127.0.0.1:9/works",  # down: never reached
        known=stored,
        known_dois=first.doi_records,
    )
    assert [r.arxiv_id for r in again.resolutions] == ["hep-th/9711200", "1611.03530"]
    assert all(r.method == "crossref" for r in again.resolutions)
    assert again.resolutions[1].detail == (
        f"DOI {ZHANG_CACM}: arXiv paper 1611.03530, as found before (stored Crossref record)"
    )
    assert again.papers == stored and again.doi_records == {} and again.doi_papers == {}
    assert arxiv.requests == [] and crossref.requests == []

    # a store without the papers themselves: fetched by id, still no search and no Crossref
    bare = resolve(items, fetch, api_base=arxiv.base, known_dois=first.doi_records)
    assert [r.arxiv_id for r in bare.resolutions] == ["hep-th/9711200", "1611.03530"]
    assert arxiv.id_lists() == [["hep-th/9711200", "1611.03530"]] and arxiv.searches() == []
    assert crossref.requests == []


def test_only_answers_are_kept_and_stored_records_spend_no_lookups(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    items = [
        cited("Nesterov and Polyak 2006", NESTEROV_POLYAK),  # 404: asked again next run
        cited("a broken answer", "10.1000/broken-record"),  # unreadable: asked again next run
        cited("Cybenko 1989", CYBENKO),
        cited("Hornik et al. 1989", HORNIK),
    ]
    first = resolve(items, fetch, api_base=arxiv.base, crossref_api_base=crossref.base)
    assert sorted(first.doi_records) == [CYBENKO, HORNIK]

    # one look-up left this run: the two stored records cost none, the new DOI gets it
    crossref.requests.clear()
    later = [*items[2:], cited("three", ZHANG_CACM), *items[:2]]
    again = resolve(
        later,
        fetch,
        api_base=arxiv.base,
        crossref_api_base=crossref.base,
        crossref_limit=1,
        known_dois=first.doi_records,
    )
    assert [r.method for r in again.resolutions] == [
        "crossref",
        "crossref",
        "crossref",
        "unresolved",
        "unresolved",
    ]
    assert crossref.requests == ["/works/10.1145/3446776"]
    assert list(again.doi_records) == [ZHANG_CACM] and again.doi_records[ZHANG_CACM].arxiv_id == "1611.03530"
    assert again.resolutions[3].detail == f"DOI {NESTEROV_POLYAK}: not looked up, 1 Crossref look-ups per run"


def test_crossref_markup_reads_as_plain_text() -> None:
    """Titles and abstracts as Crossref serves them: JATS and HTML inline markup, entities, an
    inline formula given as TeX and MathML, a sectioned abstract."""
    mathml = (
        '<mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML"><mml:mrow><mml:mi>n</mml:mi>'
        "<mml:mo>→</mml:mo><mml:mi>∞</mml:mi></mml:mrow></mml:math>"
    )
    work = {
        "message-type": "work",
        "message": {
            "DOI": "10.1000/markup",
            "title": [
                "Kernel regime &amp; the <jats:italic>lazy</jats:italic> limit of <i>L</i><sub>2</sub> loss"
            ],
            "abstract": (
                "<jats:sec><jats:title>Abstract</jats:title><jats:p>As the width <jats:inline-formula>"
                "<jats:alternatives><jats:tex-math>$$n\\to \\infty $$</jats:tex-math>"
                f"{mathml}</jats:alternatives></jats:inline-formula>, training is "
                '<jats:bold>linear</jats:bold> (see <jats:ext-link xmlns:xlink="http://www.w3.org/1999/xlink" '
                'ext-link-type="uri" xlink:href="https://example.org">the notes</jats:ext-link>).</jats:p>'
                "<jats:p>O(n<jats:sup>2</jats:sup>) &lt; cost.</jats:p></jats:sec>"
            ),
            "container-title": ["Journal of Examples &amp; Tests"],
            "volume": "3",
            "issued": {"date-parts": [[2021]]},
        },
    }
    paper = crossref_paper(json.dumps(work).encode(), "10.1000/markup")
    assert paper.title == "Kernel regime & the lazy limit of L2 loss"
    assert paper.abstract == ("As the width n→∞, training is linear (see the notes). O(n2) < cost.")
    assert paper.journal_ref == "Journal of Examples & Tests 3 (2021)"
    # a title with no markup, and one whose "<" is text, are left as they are
    for title in ("Deep Double Descent: Where Bigger Models and More Data Hurt", "When width <2 depth"):
        plain = {"message-type": "work", "message": {"title": [title]}}
        assert crossref_paper(json.dumps(plain).encode(), "10.1000/x").title == title


# --- title searches that found nothing: remembered, not made again for a while -----------------


def test_a_title_search_that_found_nothing_is_reported_and_not_made_again(
    arxiv: FakeArxiv, crossref: FakeCrossref, fetch: Callable[[str], bytes]
) -> None:
    """A weak match, another first author, no hit at all, and the titles of two Crossref records
    arXiv does not have: each is a miss; handed back, none is searched again, and every
    resolution reads as before. A title arXiv found is no miss."""
    items = [
        mention("Deep Double Descent"),
        mention(
            "Neural Tangent Kernel: Convergence and Generalization in Neural Networks",
            authors=("Yann LeCun",),
        ),
        mention("A paper nobody wrote about kernels"),
        mention("The principles of deep learning theory"),
        cited("Cybenko 1989", CYBENKO),
        cited("Hornik, Stinchcombe and White 1989", HORNIK),
    ]
    first = resolve(items, fetch, api_base=arxiv.base, crossref_api_base=crossref.base)
    assert first.resolutions[3].arxiv_id == "2106.10165"
    misses = {(m.title, m.author): m for m in first.title_misses}
    assert sorted(misses) == [
        ("a paper nobody wrote about kernels", ""),
        ("approximation by superpositions of a sigmoidal function", "G. Cybenko"),
        ("deep double descent", ""),
        ("multilayer feedforward networks are universal approximators", "Kurt Hornik"),
        ("neural tangent kernel convergence and generalization in neural networks", "Yann LeCun"),
    ]
    weak = misses[("deep double descent", "")]
    assert (weak.score, weak.detail) == (first.resolutions[0].score, first.resolutions[0].detail)
    assert weak.searched_at is None  # the store stamps it
    assert len(arxiv.searches()) == 11  # phrase and words for five misses, the phrase for the hit

    arxiv.requests.clear()
    again = resolve(
        items,
        fetch,
        api_base=arxiv.base,
        known=first.papers,
        known_dois=first.doi_records,
        title_misses=misses,
    )
    # the misses read as before (the hit is now "same title as known paper")
    unchanged = [0, 1, 2, 4, 5]
    assert [again.resolutions[n] for n in unchanged] == [first.resolutions[n] for n in unchanged]
    assert again.resolutions[3].arxiv_id == "2106.10165" and again.doi_papers == first.doi_papers
    assert again.title_misses == () and arxiv.requests == []


def test_a_failed_title_search_is_not_remembered_and_a_held_paper_beats_a_miss(
    arxiv: FakeArxiv, fetch: Callable[[str], bytes]
) -> None:
    def down(url: str) -> bytes:
        raise FetchError("arxiv-resolver", "connection refused", url=url)

    title = "The Principles of Deep Learning Theory"
    failed = resolve([mention(title)], down)
    assert failed.resolutions[0].detail.startswith("title search failed") and failed.title_misses == ()

    # arXiv found nothing last time, and the paper is held now (a listing brought it in)
    record = PAPERS["2106.10165"]
    known = {record.arxiv_id: Paper(f"arxiv:{record.arxiv_id}", record.title, arxiv_id=record.arxiv_id)}
    key = (normalize_title(title), "")
    earlier = {key: TitleMiss(key[0], "", None, "title search found nothing")}
    found = resolve([mention(title)], fetch, api_base=arxiv.base, known=known, title_misses=earlier)
    assert (found.resolutions[0].arxiv_id, found.resolutions[0].detail) == (
        "2106.10165",
        "same title as known paper 2106.10165",
    )
    assert arxiv.requests == [] and found.title_misses == ()
