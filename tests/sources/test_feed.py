"""`feed` on the recorded offconvex feed and on an Atom feed written here."""

from __future__ import annotations

import datetime as dt
import html
import time
from pathlib import Path

import pytest

from dltheory_digest.errors import ParseError
from dltheory_digest.models import ItemKind, ParseResult, RawPage
from dltheory_digest.sources import REGISTRY
from dltheory_digest.sources.feed import KIND, FeedOptions, _doi_title, _paper_title, _when

OFFCONVEX_POSTS = [
    ("How to Escape Saddle Points Efficiently", "2017/07/19/saddle-efficiency/", "2017-07-19T10:00:00"),
    ("Do GANs actually do distribution learning?", "2017/07/06/GANs3/", "2017-07-07T06:00:00"),
    ("Unsupervised learning, one notion or many?", "2017/06/26/unsupervised1/", "2017-06-27T04:00:00"),
    (
        "Generalization and Equilibrium in Generative Adversarial Networks (GANs)",
        "2017/03/30/GANs2/",
        "2017-03-30T18:00:00",
    ),
    (
        "Generative Adversarial Networks (GANs), Some Open Questions",
        "2017/03/15/GANs/",
        "2017-03-15T13:00:00",
    ),
    ("Back-propagation, an introduction", "2016/12/20/backprop/", "2016-12-20T17:00:00"),
    (
        # the feed escapes the colon twice (&amp;#58;)
        "The search for biologically plausible neural computation: The conventional approach",
        "2016/11/03/MityaNN1/",
        "2016-11-03T10:00:00",
    ),
    (
        "Gradient Descent Learns Linear Dynamical Systems",
        "2016/10/13/gradient-descent-learns-dynamical-systems/",
        "2016-10-13T10:00:00",
    ),
    ("Linear algebraic structure of word meanings", "2016/07/10/embeddingspolysemy/", "2016-07-10T10:30:00"),
    (
        "A Framework for analysing Non-Convex Optimization",
        "2016/05/08/almostconvexitySATM/",
        "2016-05-08T09:00:00",
    ),
]

# every arXiv paper the ten posts link to (abs and pdf links)
OFFCONVEX_ARXIV_IDS = {
    "1111.0952", "1212.0467", "1312.0925", "1312.6114", "1406.2661", "1407.1065", "1408.2156",
    "1411.6156", "1411.8003", "1503.00778", "1503.02101", "1504.06785", "1505.05114", "1511.06434",
    "1601.03764", "1602.04915", "1602.06664", "1605.07221", "1605.07272", "1605.09782", "1606.00704",
    "1606.03657", "1609.04802", "1609.05191", "1612.04357", "1701.07875", "1703.00573", "1703.00887",
    "1704.00708", "1705.10412", "1706.08224", "1611.00756", "1611.01146", "1701.00160",
    "1502.03520",  # linked on arXiv's old address, http://128.84.21.199/abs/1502.03520v6
}  # fmt: skip


def parse(content: bytes, url: str = "https://www.offconvex.org/feed.xml", **options: object) -> ParseResult:
    page = RawPage("offconvex", url, 200, content, content_type="application/rss+xml")
    return KIND.parse(page, FeedOptions.model_validate(options))


@pytest.fixture(scope="module")
def offconvex(shared_dir: Path) -> ParseResult:
    return parse((shared_dir / "fixtures" / "blog_offconvex" / "offconvex_feed_2017-07.xml").read_bytes())


@pytest.mark.shared
def test_offconvex_posts(offconvex: ParseResult) -> None:
    assert offconvex.error is None and offconvex.warnings == ()
    got = [(p.title, p.url, p.published) for p in offconvex.items]
    assert got == [
        (title, f"http://offconvex.github.io/{path}", dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC))
        for title, path, when in OFFCONVEX_POSTS
    ]
    assert all(post.kind is ItemKind.POST for post in offconvex.items)
    assert all(post.authors == () and post.lang is None for post in offconvex.items)  # the feed names neither
    assert dict(offconvex.cursor) == {
        "latest_published": "2017-07-19T10:00:00+00:00",
        "latest_url": "http://offconvex.github.io/2017/07/19/saddle-efficiency/",
    }


@pytest.mark.shared
def test_offconvex_text_is_plain(offconvex: ParseResult) -> None:
    saddle = offconvex.items[0]
    assert saddle.text.startswith(
        "A core, emerging problem in nonconvex optimization involves the escape of saddlepoints."
    )
    assert "Rong Ge’s and Ben Recht’s blog posts" in saddle.text
    assert "Perturbing Gradient Descent" in saddle.text.splitlines()  # a heading is its own line
    for post in offconvex.items:
        assert "<p>" not in post.text and "&lt;" not in post.text and "href=" not in post.text
        assert len(post.text) > 5000


@pytest.mark.shared
def test_offconvex_links_and_cited_papers(offconvex: ParseResult) -> None:
    saddle = offconvex.items[0]
    assert "http://www.offconvex.org/2016/03/22/saddlepoints/" in saddle.links
    assert "https://arxiv.org/abs/1703.00887" in saddle.links
    cited = {c.arxiv_id: c for c in saddle.cited if c.arxiv_id}
    assert set(cited) == {
        "1703.00887", "1503.02101", "1602.04915", "1602.06664", "1504.06785",
        "1605.07221", "1605.07272", "1704.00708", "1705.10412",
    }  # fmt: skip
    assert cited["1703.00887"].title == "our recent work with Rong Ge, Praneeth Netrapalli and Sham Kakade"
    assert cited["1703.00887"].kind is ItemKind.MENTION
    assert cited["1703.00887"].source_id == "offconvex"
    assert cited["1602.06664"].title == "phase retrieval"
    # journal links become DOI mentions
    assert {c.doi for c in saddle.cited if c.arxiv_id is None} == {
        "10.1007/s10107-006-0706-8",
        "10.1007/978-1-4419-8853-9",
    }
    every_id = {c.arxiv_id for post in offconvex.items for c in post.cited if c.arxiv_id}
    assert every_id == OFFCONVEX_ARXIV_IDS


@pytest.mark.shared
def test_offconvex_versions_pdf_links_and_duplicates(offconvex: ParseResult) -> None:
    gans3 = offconvex.items[1]
    by_id = {c.arxiv_id: c for c in gans3.cited}
    assert (by_id["1706.08224"].version, by_id["1706.08224"].title) == (
        1,
        "Do GANs actually learn the distribution? An empirical study",
    )
    # the post links 1703.00573 several times: one mention
    assert [c.arxiv_id for c in gans3.cited].count("1703.00573") == 1
    open_questions = offconvex.items[4]
    by_id = {c.arxiv_id: c for c in open_questions.cited}
    assert by_id["1511.06434"].version == 2
    assert by_id["1701.00160"].url == "https://arxiv.org/pdf/1701.00160.pdf"
    backprop = offconvex.items[5]
    assert [(c.arxiv_id, c.title) for c in backprop.cited if c.arxiv_id] == [
        ("1611.00756", "Carmon et al."),
        ("1611.01146", "Agarwal et al."),
    ]
    # links to papers on other sites that cite rather than name ("Rumelhart et al.",
    # "Olshausen and Field 1997", "ZWL'15", "Ph.D. thesis") stay links of the post: searched on
    # arXiv as titles they would cost a request each and show as papers named "Oja proposed"
    assert [c for post in offconvex.items for c in post.cited if not c.arxiv_id and not c.doi] == []
    assert "http://www.nature.com/nature/journal/v323/n6088/abs/323533a0.html" in backprop.links


def test_arxiv_old_addresses_and_papers_on_other_sites_are_cited() -> None:
    body = html.escape(
        '<p><a href="http://128.84.21.199/abs/1502.03520v6">our earlier paper</a>, '
        '<a href="http://xxx.lanl.gov/abs/hep-th/9711200">Maldacena</a>, '
        '<a href="https://papers.nips.cc/paper/5733-a-nonconvex-optimization-framework">A Nonconvex '
        "Optimization Framework for Low Rank Matrix Estimation</a>, "
        '<a href="https://papers.nips.cc/paper/5734">Zhao et al. 2015</a>, '
        '<a href="https://www.jmlr.org/papers/volume13/gretton12a/gretton12a.pdf">pdf</a> and '
        '<a href="https://www.youtube.com/watch?v=abc">a talk</a>.</p>'
    )
    feed = ATOM.replace(
        ATOM[ATOM.index("<content") : ATOM.index("</content>")], f'<content type="html">{body}'
    )
    post = parse(feed.encode(), url="https://theory.example.org/feed.atom").items[0]
    assert [(c.arxiv_id, c.version, c.title, c.url) for c in post.cited] == [
        ("1502.03520", 6, "our earlier paper", "http://128.84.21.199/abs/1502.03520v6"),
        ("hep-th/9711200", None, "Maldacena", "http://xxx.lanl.gov/abs/hep-th/9711200"),
        # a paper site's link named by the paper's title; one that cites ("Zhao et al. 2015") or
        # is named "pdf" names no paper, and a talk is none
        (
            None,
            None,
            "A Nonconvex Optimization Framework for Low Rank Matrix Estimation",
            "https://papers.nips.cc/paper/5733-a-nonconvex-optimization-framework",
        ),
    ]
    assert dict(post.cited[2].extra) == {"evidence": "paper_link"}


def test_a_paper_link_naming_the_title_with_its_citation_is_cited_by_the_title() -> None:
    body = html.escape(
        '<p><a href="https://www.cv-foundation.org/openaccess/content_cvpr_2016/papers/He_CVPR_2016_paper.pdf">'
        "Deep Residual Learning for Image Recognition (He et al. 2016)</a>, "
        '<a href="https://www.nature.com/articles/44565">Lee and Seung (1999), Learning the parts of objects '
        "by non-negative matrix factorization</a>, "
        '<a href="https://www.nature.com/articles/323533a0">Rumelhart et al. 1986</a>, '
        '<a href="https://papers.nips.cc/paper/5000">Hinton and Salakhutdinov 2006 in Science</a> and '
        '<a href="https://papers.nips.cc/paper/5734">(Zhao et al. 2015)</a>.</p>'
    )
    feed = ATOM.replace(
        ATOM[ATOM.index("<content") : ATOM.index("</content>")], f'<content type="html">{body}'
    )
    post = parse(feed.encode(), url="https://theory.example.org/feed.atom").items[0]
    # the title is searched, not the citation; a citation alone names no paper, however many
    # words it runs to
    assert [c.title for c in post.cited] == [
        "Deep Residual Learning for Image Recognition",
        "Learning the parts of objects by non-negative matrix factorization",
    ]


@pytest.mark.shared
def test_max_entries(shared_dir: Path) -> None:
    result = parse(
        (shared_dir / "fixtures" / "blog_offconvex" / "offconvex_feed_2017-07.xml").read_bytes(),
        max_entries=2,
    )
    assert [p.title for p in result.items] == [OFFCONVEX_POSTS[0][0], OFFCONVEX_POSTS[1][0]]


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-US">
  <title>A theory blog</title>
  <id>https://theory.example.org/</id>
  <updated>2026-11-18T09:00:00Z</updated>
  <entry>
    <title type="html">Reading &lt;em&gt;The Principles of Deep Learning Theory&lt;/em&gt;</title>
    <link rel="alternate" href="https://theory.example.org/2026/11/18/principles/"/>
    <id>tag:theory.example.org,2026:principles</id>
    <published>2026-11-18T08:30:00+01:00</published>
    <updated>2026-11-19T10:00:00Z</updated>
    <author><name>Jane Reader</name></author>
    <author><name>Ahmed Writer</name></author>
    <content type="html">&lt;p&gt;Notes on &lt;a href="https://arxiv.org/pdf/2106.10165v2"&gt;the book by Roberts, Yaida and Hanin&lt;/a&gt;,
      which builds on &lt;a href="https://doi.org/10.48550/arXiv.1806.07572"&gt;the neural tangent kernel&lt;/a&gt;
      and on wide networks (arXiv:1902.06720).&lt;/p&gt;
      &lt;p&gt;See also &lt;a href="/2026/10/01/earlier/"&gt;an earlier post&lt;/a&gt;,
      &lt;a href="https://doi.org/10.1023/A:1026654312961"&gt;a journal paper&lt;/a&gt;,
      &lt;a href="https://www.youtube.com/watch?v=abc"&gt;a talk&lt;/a&gt; and
      &lt;a href="https://arxiv.org/abs/2106.10165"&gt;the abstract page&lt;/a&gt;.
      Discussed on &lt;a href="https://huggingface.co/papers/1912.02292"&gt;Deep Double Descent&lt;/a&gt;.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>No links here</title>
    <link rel="alternate" href="https://theory.example.org/2026/11/11/quiet/"/>
    <id>tag:theory.example.org,2026:quiet</id>
    <updated>2026-11-11T12:00:00Z</updated>
    <summary>Only words.</summary>
  </entry>
</feed>
"""


def test_atom_feed_with_authors_relative_links_and_dois() -> None:
    result = parse(ATOM.encode(), url="https://theory.example.org/feed.atom")
    post, quiet = result.items
    assert post.title == "Reading The Principles of Deep Learning Theory"
    assert post.authors == ("Jane Reader", "Ahmed Writer")
    assert post.lang == "en"
    assert post.published == dt.datetime(2026, 11, 18, 7, 30, tzinfo=dt.UTC)
    assert post.updated == dt.datetime(2026, 11, 19, 10, 0, tzinfo=dt.UTC)
    assert post.extra == (("guid", "tag:theory.example.org,2026:principles"),)
    assert "https://theory.example.org/2026/10/01/earlier/" in post.links  # made absolute
    assert "https://www.youtube.com/watch?v=abc" in post.links
    assert post.text.startswith("Notes on the book by Roberts, Yaida and Hanin,")
    cited = [(c.arxiv_id, c.version, c.doi, c.title) for c in post.cited]
    assert cited == [
        ("2106.10165", 2, None, "the book by Roberts, Yaida and Hanin"),
        ("1806.07572", None, "10.48550/arxiv.1806.07572", "the neural tangent kernel"),
        (None, None, "10.1023/a:1026654312961", ""),  # "a journal paper" names no paper
        ("1912.02292", None, None, "Deep Double Descent"),  # a mirror page named by its arXiv id
        ("1902.06720", None, None, ""),  # written in the text, not linked
    ]
    assert all(c.kind is ItemKind.MENTION and c.lang == "en" for c in post.cited)
    assert quiet.text == "Only words." and quiet.cited == () and quiet.links == ()
    assert quiet.published == dt.datetime(2026, 11, 11, 12, 0, tzinfo=dt.UTC)


def test_feed_without_entries_warns() -> None:
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://e.org/</link></channel></rss>'
    result = parse(empty)
    assert result.items == ()
    assert result.warnings == ("0 items parsed: the feed has no entries",)


def test_html_page_instead_of_a_feed_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"\[offconvex\] not an RSS/Atom feed"):
        parse(b"<!doctype html><html><head><title>Blog</title></head><body><p>We moved.</p></body></html>")


def test_registered() -> None:
    assert REGISTRY["feed"] is KIND and not KIND.arxiv


# --- feeds whose markup drifted (hand-written: tests/fixtures/sources/feed_*.xml) ----------


def test_repeated_entries_relative_links_and_creator_lists(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "feed_odd_entries.xml").read_bytes()
    result = KIND.parse_bytes(content, source_id="offconvex")
    # the third entry repeats the second's guid: one post, not two
    assert [item.title for item in result.items] == [
        "Reading Tensor Programs & the NTK",
        "Deep Double Descent – revisited",
    ]
    reading, descent = result.items
    # a relative link, saved without the feed's address, still resolves against the site it names
    assert reading.url == "https://www.offconvex.org/2021/01/05/tensor-programs/"
    assert "https://www.offconvex.org/2019/06/03/trajectories/" in reading.links
    # one dc:creator naming three people is three authors; "Bach, Francis" stays one
    assert reading.authors == ("Sanjeev Arora", "Nadav Cohen", "Elad Hazan")
    assert descent.authors == ("Bach, Francis",)
    assert reading.published == dt.datetime(2021, 1, 5, 18, 0, tzinfo=dt.UTC)
    assert [(m.arxiv_id, m.version) for m in reading.cited] == [("2006.14548", 4)]
    assert [m.arxiv_id for m in descent.cited] == ["1912.02292"]


def test_an_entry_whose_only_id_is_a_urn_has_no_url(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "feed_atom_urn_ids.xml").read_bytes()
    (post,) = KIND.parse_bytes(content, source_id="bach").items
    assert post.title == "The spectral bias"
    assert post.url is None  # not "urn:uuid:..." as a link the digest would print
    assert dict(post.extra)["guid"] == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert post.published == dt.datetime(2020, 5, 10, 7, 30, tzinfo=dt.UTC)
    assert [m.doi for m in post.cited] == ["10.1073/pnas.1903070116"]


def test_entries_without_a_link_do_not_take_the_feeds_address() -> None:
    content = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Notes</title>
<link>https://francisbach.com/</link>
<item><title>The spectral bias</title><description>On arXiv:1806.07572</description></item>
<item><title>Scaling laws of optimization</title><description>Without links</description></item>
</channel></rss>"""
    result = KIND.parse_bytes(content, url="https://francisbach.com/feed/", source_id="bach")
    # two posts, each without a page: not two posts at the feed's URL, which share one key
    assert [(item.title, item.url) for item in result.items] == [
        ("The spectral bias", None),
        ("Scaling laws of optimization", None),
    ]
    assert len({item.key for item in result.items}) == 2


MIRROR_LINKS_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Reading group</title><link>https://group.example.org/</link>
<item>
  <title>This week's papers</title>
  <link>https://group.example.org/2026/11/20/week/</link>
  <pubDate>Fri, 20 Nov 2026 09:00:00 GMT</pubDate>
  <description>&lt;p&gt;We read &lt;a href="https://papers.cool/arxiv/2106.10165"&gt;The Principles of Deep Learning Theory&lt;/a&gt;,
    &lt;a href="https://www.arxiv-vanity.com/papers/1806.07572v4/"&gt;Neural Tangent Kernel&lt;/a&gt; and
    &lt;a href="https://arxiv.sciencecast.org/abs/1912.02292"&gt;Deep Double Descent&lt;/a&gt;;
    &lt;a href="https://papers.cool/venue/ICLR.2026"&gt;the venue page&lt;/a&gt; names no paper.&lt;/p&gt;</description>
</item>
</channel></rss>
"""


def test_a_post_citing_arxiv_mirror_links_gets_the_papers() -> None:
    # papers.cool, arxiv-vanity and sciencecast pages are named by the arXiv id, like huggingface's
    (post,) = parse(MIRROR_LINKS_RSS.encode(), url="https://group.example.org/feed.xml").items
    assert [(c.arxiv_id, c.version, c.title, c.url) for c in post.cited] == [
        (
            "2106.10165",
            None,
            "The Principles of Deep Learning Theory",
            "https://papers.cool/arxiv/2106.10165",
        ),
        ("1806.07572", 4, "Neural Tangent Kernel", "https://www.arxiv-vanity.com/papers/1806.07572v4/"),
        ("1912.02292", None, "Deep Double Descent", "https://arxiv.sciencecast.org/abs/1912.02292"),
    ]


WRAPPED_LINKS_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Reading group</title><link>https://group.example.org/</link>
<item>
  <title>Papers we read in November</title>
  <link>https://group.example.org/2026/11/27/november/</link>
  <guid>https://group.example.org/2026/11/27/november/</guid>
  <dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Chiyuan Zhang、Samy Bengio、Moritz Hardt</dc:creator>
  <description>&lt;p&gt;The book (&lt;a href="https://www.google.com/url?q=https://arxiv.org/abs/2106.10165&amp;amp;sa=D"&gt;paper&lt;/a&gt;,
    [&lt;a href="https://arxiv.org/pdf/1912.02292v2"&gt;pdf&lt;/a&gt;]) and the follow-up, see
    &lt;a href="https://doi.org/10.1023/A:1026654312961"&gt;here&lt;/a&gt;; the kernel:
    &lt;a href="https://arxiv.org/abs/1806.07572"&gt;arXiv:1806.07572&lt;/a&gt;.&lt;/p&gt;
    &lt;p&gt;Zhang et al., Understanding deep learning (still) requires rethinking generalization,
    Commun. ACM 64(3), doi:10.1145/3446776. Slides: https://group.example.org/slides/kernel_(statistics)
    and a &lt;a href="#fn1"&gt;footnote&lt;/a&gt;.&lt;/p&gt;</description>
</item>
</channel></rss>
"""


def test_a_post_is_read_as_notes_pages_are() -> None:
    # the same reading as notes_page: Google's redirect wrapper removed, a DOI written in the
    # text, "paper"/"pdf"/"here" never a title, several names in one creator split
    (post,) = parse(WRAPPED_LINKS_RSS.encode(), url="https://group.example.org/feed.xml").items
    assert [(c.arxiv_id, c.version, c.doi, c.title) for c in post.cited] == [
        ("2106.10165", None, None, ""),
        ("1912.02292", 2, None, ""),
        (None, None, "10.1023/a:1026654312961", ""),
        ("1806.07572", None, None, ""),
        (None, None, "10.1145/3446776", ""),
    ]
    assert post.cited[0].url == "https://arxiv.org/abs/2106.10165"
    assert post.authors == ("Chiyuan Zhang", "Samy Bengio", "Moritz Hardt")
    # a place in the post itself is no link; a URL written as text is one
    assert not any("#fn1" in link for link in post.links)
    assert "https://group.example.org/slides/kernel_(statistics)" in post.links
    assert post.text.splitlines()[0] == (
        "The book (paper, [pdf]) and the follow-up, see here; the kernel: arXiv:1806.07572."
    )


# --- one bad entry must not lose the feed -------------------------------------------------

THREE_POSTS = [
    "How to Escape Saddle Points Efficiently",
    "Do GANs actually do distribution learning?",
    "Back-propagation, an introduction",
]


@pytest.fixture
def three_posts(fixtures_dir: Path) -> bytes:
    return (fixtures_dir / "sources" / "feed_three_posts.xml").read_bytes()


def parse_three(content: bytes, content_type: str = "application/rss+xml") -> ParseResult:
    page = RawPage(
        "offconvex", "http://offconvex.github.io/feed.xml", 200, content, content_type=content_type
    )
    return KIND.parse(page, FeedOptions())


def test_the_three_posts_fixture_reads_whole(three_posts: bytes) -> None:
    result = parse_three(three_posts)
    assert [item.title for item in result.items] == THREE_POSTS and result.warnings == ()
    assert [item.authors for item in result.items][:2] == [
        ("Chi Jin", "Praneeth Netrapalli", "Michael Jordan"),
        ("Sanjeev Arora", "Yi Zhang"),
    ]
    assert [cited.arxiv_id for item in result.items for cited in item.cited] == ["1703.00887", "1706.08224"]


@pytest.mark.parametrize("written", ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00"])
def test_an_impossible_date_leaves_its_entry_undated(three_posts: bytes, written: str) -> None:
    content = three_posts.replace(b"Fri, 07 Jul 2017 06:00:00 +0000", written.encode())
    result = parse_three(content)
    assert [item.title for item in result.items] == THREE_POSTS
    assert [item.published is None for item in result.items] == [False, True, False]
    assert dict(result.cursor)["latest_published"] == "2017-07-19T10:00:00+00:00"
    # said in the source's report, by the entry's title, since the post is placed by no date of its own
    assert result.warnings == (
        f"entry 'Do GANs actually do distribution learning?': date {written!r} cannot be read; the post is undated",
    )


@pytest.mark.parametrize(
    ("written", "read"),
    [
        # what feedparser reads as no date: RFC 822 with a weekday and no zone
        ("Fri, 07 Jul 2017 06:00:00", dt.datetime(2017, 7, 7, 6, tzinfo=dt.UTC)),
        ("Mon, 04 Jan 2027 00:30:00", dt.datetime(2027, 1, 4, 0, 30, tzinfo=dt.UTC)),
        ("Sun, 3 Jan 2027 23:30", dt.datetime(2027, 1, 3, 23, 30, tzinfo=dt.UTC)),
    ],
)
def test_a_date_without_a_zone_is_read_as_utc(three_posts: bytes, written: str, read: dt.datetime) -> None:
    content = three_posts.replace(b"Fri, 07 Jul 2017 06:00:00 +0000", written.encode())
    result = parse_three(content)
    assert result.items[1].published == read and result.warnings == ()


def test_an_updated_date_without_a_zone_dates_the_post_and_its_update() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>A blog</title>
    <item><title>Only a dc:date</title><link>https://blog.example.org/a</link>
    <dc:date>Thu, 31 Dec 2026 18:00:00</dc:date></item>
    <item><title>Updated later</title><link>https://blog.example.org/b</link>
    <pubDate>Fri, 25 Dec 2026 10:00:00 +0000</pubDate><atom:updated>Sat, 02 Jan 2027 08:00:00</atom:updated></item>
    <item><title>Written in words</title><link>https://blog.example.org/c</link>
    <pubDate>the day after Christmas</pubDate><atom:updated>Sat, 02 Jan 2027 08:00:00</atom:updated></item>
    </channel></rss>"""
    result = parse(feed, url="https://blog.example.org/feed.xml")
    only_dc, updated, in_words = result.items
    assert only_dc.published == only_dc.updated == dt.datetime(2026, 12, 31, 18, tzinfo=dt.UTC)
    assert updated.published == dt.datetime(2026, 12, 25, 10, tzinfo=dt.UTC)
    assert updated.updated == dt.datetime(2027, 1, 2, 8, tzinfo=dt.UTC)
    # the date it could not read is named; the post is dated by its update, so not undated
    assert in_words.published == in_words.updated == dt.datetime(2027, 1, 2, 8, tzinfo=dt.UTC)
    assert result.warnings == ("entry 'Written in words': date 'the day after Christmas' cannot be read",)


def test_when_is_none_for_a_year_outside_python_dates() -> None:
    assert _when(time.struct_time((0, 1, 1, 0, 0, 0, 0, 1, 0))) is None
    assert _when(time.struct_time((10000, 1, 1, 9, 59, 59, 0, 1, 0))) is None
    assert _when(time.struct_time((2017, 7, 19, 10, 0, 0, 2, 200, 0))) == dt.datetime(
        2017, 7, 19, 10, tzinfo=dt.UTC
    )


@pytest.mark.parametrize("reference", [b"&#xD800;", b"&#99999999;", b"&#0;"])
def test_a_reference_to_no_character_becomes_a_replacement_character(
    three_posts: bytes, reference: bytes
) -> None:
    # feedparser's lenient reader raised on these (chr() out of range, a lone surrogate)
    content = three_posts.replace(b"<title>Do GANs", b"<title>Do " + reference + b"GANs")
    result = parse_three(content)
    assert [item.title.replace("\ufffd", "") for item in result.items] == [
        THREE_POSTS[0],
        "Do GANs actually do distribution learning?",
        THREE_POSTS[2],
    ]
    assert "\ufffd" in result.items[1].title and "\x00" not in result.items[1].title
    assert all("\ud800" not in item.title for item in result.items)


def test_an_encoding_label_that_names_no_encoding_is_ignored(three_posts: bytes) -> None:
    # feedparser raised "embedded null character" on it instead of trying the next candidate
    result = parse_three(three_posts.replace(b'encoding="UTF-8"', b'encoding="UT\x00F-8"'))
    assert [item.title for item in result.items] == THREE_POSTS
    assert any("feed read after repair" in warning for warning in result.warnings)


def test_a_feed_feedparser_cannot_read_at_all_is_a_parse_error_naming_the_source(
    monkeypatch: pytest.MonkeyPatch, three_posts: bytes
) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise ValueError("chr() arg not in range(0x110000)")

    monkeypatch.setattr("dltheory_digest.sources.feed.feedparser.parse", fails)
    with pytest.raises(ParseError, match=r"\[offconvex\] feedparser cannot read the feed \(ValueError"):
        parse_three(three_posts.replace(b"<title>Do GANs", b"<title>Do &#99999999;GANs"))


@pytest.mark.parametrize("control", ["\x0c", "\x0b", "\x01", "\ufffe"])
def test_a_control_character_in_one_entry_keeps_every_entry(three_posts: bytes, control: str) -> None:
    content = three_posts.replace(
        b"step by step.&lt;/p&gt;", b"step by step.&lt;/p&gt;" + control.encode() + b"b"
    )
    result = parse_three(content)
    assert [item.title for item in result.items] == THREE_POSTS
    assert result.items[2].text.startswith("Reverse-mode differentiation, step by step.")


def test_an_unparsable_link_costs_that_link_only(three_posts: bytes) -> None:
    content = three_posts.replace(
        b"<link>http://offconvex.github.io/2017/07/06/GANs3/</link>", b"<link>http://[oops/</link>"
    ).replace(b'href="https://arxiv.org/abs/1703.00887"', b'href="http://[oops/"')
    result = parse_three(content)
    assert [item.title for item in result.items] == THREE_POSTS
    assert [item.url for item in result.items] == [
        "http://offconvex.github.io/2017/07/19/saddle-efficiency/",
        None,
        "http://offconvex.github.io/2016/12/20/backprop/",
    ]
    assert (
        result.items[0].links == () and result.items[0].text == "Perturbed gradient descent: Jin et al. 2017."
    )
    assert [cited.arxiv_id for cited in result.items[1].cited] == ["1706.08224"]


def test_a_utf16_feed_is_read_by_its_byte_order_mark(three_posts: bytes) -> None:
    # the BOM wins over a stale encoding="UTF-8" declaration and a header saying UTF-8
    for content in (three_posts.decode().encode("utf-16"), three_posts.decode().encode("utf-16-be")):
        marked = content if content.startswith(b"\xff\xfe") else b"\xfe\xff" + content
        for content_type in ("application/rss+xml; charset=utf-8", ""):
            result = parse_three(marked, content_type)
            assert [item.title for item in result.items] == THREE_POSTS, content_type


def test_an_entry_nested_too_deep_is_left_out_with_a_warning_naming_it(three_posts: bytes) -> None:
    deep = b"&lt;div&gt;" * 5000 + b"Reverse-mode"
    result = parse_three(three_posts.replace(b"Reverse-mode", deep))
    assert [item.title for item in result.items] == THREE_POSTS[:2]
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("Back-propagation, an introduction skipped: could not be read")
    assert "nested more than 4,096 levels" in result.warnings[0]


def test_a_feed_document_nested_too_deep_is_a_parse_error(three_posts: bytes) -> None:
    with pytest.raises(ParseError, match=r"\[offconvex\] markup nested more than 4,096 levels deep"):
        parse_three(three_posts.replace(b"<item>", b"<div>" * 5000 + b"<item>", 1))


def test_an_unparsable_site_link_is_no_base_for_the_entries(three_posts: bytes) -> None:
    content = three_posts.replace(
        b"<link>http://offconvex.github.io/</link>", b"<link>http://[oops/</link>", 1
    )
    page = RawPage("offconvex", "", 200, content, content_type="application/rss+xml")
    result = KIND.parse(page, FeedOptions())
    assert [item.title for item in result.items] == THREE_POSTS and result.warnings == ()


def test_an_atom_feeds_own_author_is_given_to_entries_naming_none() -> None:
    # RFC 4287 §4.2.1: the feed's author is every entry's that names none of its own
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Jane's notes</title><id>urn:uuid:feed</id><updated>2026-11-18T09:00:00Z</updated>
  <author><name>Jane Theorist</name><email>jane@example.org</email></author>
  <entry><title>Why do neural scaling laws hold?</title><id>urn:uuid:1</id>
    <link href="https://jane.example.org/scaling/"/><updated>2026-11-18T09:00:00Z</updated></entry>
  <entry><title>A guest post</title><id>urn:uuid:2</id>
    <link href="https://jane.example.org/guest/"/><updated>2026-11-17T09:00:00Z</updated>
    <author><name>Sam Guest</name></author></entry>
  <entry><title>Reposted from a friend</title><id>urn:uuid:3</id>
    <link href="https://jane.example.org/repost/"/><updated>2026-11-16T09:00:00Z</updated>
    <source><id>urn:uuid:other</id><title>Lee's log</title><author><name>Lee Friend</name></author></source></entry>
</feed>"""
    result = parse(atom, url="https://jane.example.org/atom.xml")
    assert [item.authors for item in result.items] == [("Jane Theorist",), ("Sam Guest",), ("Lee Friend",)]


def test_an_rss_channels_managing_editor_is_no_ones_author() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://e.org/</link>
<managingEditor>editor@e.org (The Editor)</managingEditor>
<item><title>A post</title><link>https://e.org/post/</link></item></channel></rss>"""
    assert parse(rss, url="https://e.org/feed.xml").items[0].authors == ()


def test_a_blogs_home_page_given_as_the_feed_names_the_feed_it_advertises() -> None:
    home = (
        b"<!doctype html><html><head><title>Blog</title>"
        b'<link rel="stylesheet" href="/style.css">'
        b'<link rel="alternate" type="application/rss+xml" title="Blog" href="/feed.xml">'
        b"</head><body><p>Posts <b>here</b></body></html>"
    )
    with pytest.raises(ParseError) as info:
        parse(home, url="http://127.0.0.1:8765/")
    assert "not an RSS/Atom feed" in str(info.value)
    assert "the page names its feed: http://127.0.0.1:8765/feed.xml (use it as the url)" in str(info.value)


# --- blog platforms: their formats, their boilerplate, their way of citing ---------------------


def platform_feed(
    fixtures_dir: Path, name: str, content_type: str = "application/rss+xml; charset=UTF-8"
) -> ParseResult:
    content = (fixtures_dir / "sources" / name).read_bytes()
    page = RawPage("blog", "https://blog.example.org/feed/", 200, content, content_type=content_type)
    return KIND.parse(page, FeedOptions())


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=UTF-8", "application/octet-stream", "text/plain"]
)
def test_a_well_formed_feed_served_as_another_type_reads_without_a_warning(
    fixtures_dir: Path, content_type: str
) -> None:
    # the header is the site's, not the user's, to fix: a warning every week would never go away
    served = platform_feed(fixtures_dir, "feed_wordpress_com_latex.xml", content_type)
    expected = platform_feed(fixtures_dir, "feed_wordpress_com_latex.xml")
    assert served.warnings == () and served.items == expected.items


def test_a_feed_served_as_html_that_is_not_well_formed_still_warns(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "feed_wordpress_com_latex.xml").read_bytes()
    broken = content.replace(b"</title>", b"</titel>", 1)
    page = RawPage(
        "blog", "https://blog.example.org/feed/", 200, broken, content_type="text/html; charset=UTF-8"
    )
    (warning,) = KIND.parse(page, FeedOptions()).warnings
    assert warning.startswith("feed is not well-formed, read leniently:") and "mismatched tag" in warning


def test_wordpress_com_formula_images_are_read_as_their_tex(fixtures_dir: Path) -> None:
    (post,) = platform_feed(fixtures_dir, "feed_wordpress_com_latex.xml").items
    assert post.text.startswith(
        "When the number of parameters ${p}$ crosses the number of samples ${n}$ the test error peaks"
    )
    # the TeX from `alt`, else from the image's address
    assert (
        "For the min-norm interpolant with ${d > n}$ the variance term is ${\\sigma^2 n/(d-n-1)}$,"
        in post.text
    )
    assert "pixel.wp.com" not in " ".join(post.links)


def test_a_doi_cited_by_words_that_name_no_paper_has_no_title(fixtures_dir: Path) -> None:
    (post,) = platform_feed(fixtures_dir, "feed_wordpress_com_latex.xml").items
    by_doi = {cited.doi: cited for cited in post.cited if cited.doi}
    # "PNAS version" and "doi:10.1214/09-EJS521" are no titles: the DOI names the paper (as an
    # arXiv id without details is named by its id)
    assert by_doi["10.1073/pnas.1903070116"].title == ""
    assert by_doi["10.1214/09-ejs521"].title == ""
    # a Zenodo record (linked) and a figshare item (written out) are code and data, not papers
    assert set(by_doi) == {"10.1073/pnas.1903070116", "10.1214/09-ejs521"}


def test_author_lists_as_link_text_cite_and_a_question_title_names(fixtures_dir: Path) -> None:
    (post,) = platform_feed(fixtures_dir, "feed_wordpress_com_latex.xml").items
    on_paper_sites = [cited.title for cited in post.cited if not (cited.arxiv_id or cited.doi)]
    # "Arora, Cohen and Hazan" (PMLR) and "Jacot & Hongler" (NeurIPS) name authors, not papers
    assert on_paper_sites == [
        "Approximation beats concentration? An approximation view on inference with smooth radial kernels"
    ]
    # an arXiv link keeps its text whatever it is: arXiv titles the paper
    assert [(c.arxiv_id, c.title) for c in post.cited if c.arxiv_id] == [
        ("1812.11118", "Belkin, Hsu, Ma and Mandal"),
        ("1903.08560", "Hastie, Montanari, Rosset and Tibshirani"),
    ]


@pytest.mark.parametrize(
    ("label", "title"),
    [
        ("Chizat, Oyallon and Bach", ""),
        ("Arora, Cohen and Hazan", ""),
        ("Belkin, Hsu, Ma and Mandal", ""),
        ("Jacot & Hongler", ""),
        ("Allen-Zhu, Li and Song", ""),
        # a title made of nouns is a title
        ("Memorization, Generalization and Robustness", "Memorization, Generalization and Robustness"),
        (
            "Approximation beats concentration? An approximation view on inference with smooth radial kernels",
            "Approximation beats concentration? An approximation view on inference with smooth radial kernels",
        ),
        ("Does SGD generalize? We think so.", ""),  # two sentences
        ("PNAS version", ""),
        ("our Zenodo record", ""),
        ("doi:10.1214/09-EJS521", ""),
    ],
)
def test_paper_title_of_a_link_text(label: str, title: str) -> None:
    assert _paper_title(label) == title


@pytest.mark.parametrize(
    ("label", "title"),
    [
        ("PNAS version", ""),
        ("the journal version", ""),
        ("a journal paper", ""),
        ("our Zenodo record", ""),
        ("doi:10.1214/09-EJS521", ""),
        ("10.1214/09-EJS521", ""),
        ("Nesterov 2004", ""),
        ("Chizat, Oyallon and Bach", ""),
        # the DOI names the paper: a short, Chinese or Arabic title the post gives is kept
        ("Deep learning", "Deep learning"),
        ("深度神经网络泛化理论研究综述", "深度神经网络泛化理论研究综述"),
        ("نظرية التعميم في الشبكات العصبية العميقة", "نظرية التعميم في الشبكات العصبية العميقة"),
        (
            "Reconciling modern machine learning practice (Belkin et al. 2019)",
            "Reconciling modern machine learning practice",
        ),
    ],
)
def test_doi_title_of_a_link_text(label: str, title: str) -> None:
    assert _doi_title(label) == title


def test_substack_formula_blocks_are_kept_and_its_widgets_left_out(fixtures_dir: Path) -> None:
    (post,) = platform_feed(fixtures_dir, "feed_substack.xml").items
    lines = post.text.splitlines()
    assert lines[0] == "Figure 1: test loss against the number of parameters."  # a real caption
    assert "$L(N) = (N_c/N)^{\\alpha_N}$" in lines
    assert "when data and compute are not the bottleneck.1" in lines
    assert not any(word in post.text for word in ("Thanks for reading", "Subscribe", "Share", "Restack"))
    assert not any("action=share" in link for link in post.links)
    assert [cited.arxiv_id for cited in post.cited] == ["2001.08361", "2203.15556"]


def test_medium_credit_caption_and_footer_are_left_out(fixtures_dir: Path) -> None:
    (post,) = platform_feed(fixtures_dir, "feed_medium.xml").items
    assert post.text.splitlines() == [
        "Grokking, reported by Power et al., is generalization long after a small transformer has fit "
        "its training set of modular arithmetic. Nanda et al. reverse-engineered the algorithm the "
        "network learns.",
        "Train and test accuracy, as plotted by Power et al.",  # a caption that says something
    ]
    assert post.links == ("https://arxiv.org/abs/2201.02177", "https://arxiv.org/abs/2301.05217")


def test_lesswrong_published_on_line_and_discuss_link_are_left_out(fixtures_dir: Path) -> None:
    (post,) = platform_feed(fixtures_dir, "feed_lesswrong.xml").items
    assert post.text.splitlines() == [
        "This is a linkpost for https://arxiv.org/abs/2212.03827",
        # the post's own words are kept, even where they look like the platform's
        "Published on arXiv in December 2022, the method finds a direction in a language model's "
        "activations that satisfies logical consistency, without labels.",
        "Discuss",
    ]
    assert [cited.arxiv_id for cited in post.cited] == ["2212.03827"]


def test_a_platform_subscribe_line_ends_no_post() -> None:
    body = html.escape(
        "<p>The NTK stays fixed in the infinite-width limit.</p>"
        "<p>Thanks for reading! Sign up for A theory blog to get new posts by email.</p>"
    )
    feed = ATOM.replace(
        ATOM[ATOM.index("<content") : ATOM.index("</content>")], f'<content type="html">{body}'
    )
    post = parse(feed.encode(), url="https://theory.example.org/feed.atom").items[0]
    assert post.text == "The NTK stays fixed in the infinite-width limit."


def test_scripts_frames_buttons_and_non_web_links_stay_out_of_a_post() -> None:
    body = html.escape(
        '<p>See <a href="https://arxiv.org/abs/1806.07572">the NTK paper</a> '
        '<a href="javascript:alert(1)">x</a> <a href="data:text/html,hi">d</a> <a href="vbscript:v">v</a>'
        "<script>var a = \"<a href='https://tracker.example.org/'>t</a>\";</script>"
        '<iframe src="https://player.example.org/">frame text</iframe><button>Like</button></p>'
    )
    feed = ATOM.replace(
        ATOM[ATOM.index("<content") : ATOM.index("</content>")], f'<content type="html">{body}'
    )
    post = parse(feed.encode(), url="https://theory.example.org/feed.atom").items[0]
    assert post.text == "See the NTK paper x d v"
    assert post.links == ("https://arxiv.org/abs/1806.07572",)
