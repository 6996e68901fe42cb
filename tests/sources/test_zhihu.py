"""zhihu kind on the real recordings in ../shared/fixtures/zhihu and zhihu_legacy (read in place),
plus hand-written pages in the current shapes (article with a reading list, v4 JSON list)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from dltheory_digest.errors import ParseError
from dltheory_digest.models import ItemKind, ParseResult
from dltheory_digest.sources import REGISTRY

KIND = REGISTRY["zhihu"]
COLUMN_PAGE = "zhihu/morning-paper_zhihu_column_c_1335313713054887936_2021.html"
COLUMN_ARTICLES = [
    (
        "https://zhuanlan.zhihu.com/p/348810960",
        "amis在bigo人工智能训练平台落地实践",
        "2021-02-02T08:28:50+00:00",
    ),
    ("https://zhuanlan.zhihu.com/p/347402803", "【bigo】前端配置系统pear", "2021-01-27T06:39:04+00:00"),
    (
        "https://zhuanlan.zhihu.com/p/345790344",
        "【bigo前端】如何截取gif首帧图片",
        "2021-01-20T11:49:20+00:00",
    ),
]


def parse(path: Path, url: str = "") -> ParseResult:
    return KIND.parse_bytes(path.read_bytes(), url=url, source_id="zhihu-col")


def test_real_column_page_lists_its_articles(shared_dir: Path) -> None:
    result = parse(
        shared_dir / "fixtures" / COLUMN_PAGE, "https://www.zhihu.com/column/c_1335313713054887936"
    )
    assert not result.warnings
    got = [
        (item.url, item.title, item.published.isoformat() if item.published else None)
        for item in result.items
    ]
    assert got == COLUMN_ARTICLES
    assert result.cursor == (("last_published", "2021-02-02T08:28:50+00:00"),)
    first = result.items[0]
    assert first.kind is ItemKind.POST
    assert first.authors == ("bigo前端",)
    assert first.lang == "zh"
    assert first.updated == dt.datetime(2021, 2, 3, 2, 5, 47, tzinfo=dt.UTC)
    # the excerpt, with Zhihu's split link spans joined back
    assert first.text.startswith("本文首发于：https://github.com/bigo-frontend/blog/ 欢迎关注、转载。")
    assert first.text.endswith("amis 的解决方案是基于 JSO…")


def test_real_column_page_inside_its_js_mock_parses_the_same(shared_dir: Path) -> None:
    result = parse(shared_dir / "fixtures" / "zhihu" / "morning-paper_zhihu_column_html_mock.js")
    assert [item.url for item in result.items] == [url for url, _, _ in COLUMN_ARTICLES]


def test_legacy_column_post_json(shared_dir: Path) -> None:
    result = parse(shared_dir / "fixtures" / "zhihu_legacy" / "zhihu-py3_column_post.json")
    (post,) = result.items
    assert post.kind is ItemKind.POST
    assert post.title == "为了做一个称职的吃货，他决定连着吃一百天转基因食物"
    assert post.url == "https://zhuanlan.zhihu.com/p/20202275"
    assert post.authors == ("谢熊猫君",)
    assert post.published == dt.datetime(2015, 9, 6, 20, 3, 31, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert post.text.startswith("这是个关于科普公益项目的硬广")
    assert dict(post.extra) == {"column": "谢熊猫出没注意"}
    assert post.cited == ()  # a post about food lists no papers


def test_legacy_column_metadata_has_no_posts(shared_dir: Path) -> None:
    result = parse(shared_dir / "fixtures" / "zhihu_legacy" / "zhihu-py3_column.json")
    assert result.items == ()
    assert "0 items parsed from a 200 response" in result.warnings
    assert any("legacy column metadata for 'xiepanda' (69 posts)" in w for w in result.warnings)


def test_legacy_answer_page(shared_dir: Path) -> None:
    result = parse(shared_dir / "fixtures" / "zhihu_legacy" / "zhihu-py3_answer.html")
    (answer,) = result.items
    assert answer.title == "关系亲密的人之间要说「谢谢」吗？"
    assert answer.url == "https://www.zhihu.com/question/24825703/answer/30975949"
    assert answer.authors == ("甜阁下",)
    assert answer.published == dt.datetime.fromtimestamp(1411567255, tz=dt.UTC)
    assert answer.updated == dt.datetime(2014, 9, 25, tzinfo=dt.UTC)
    assert answer.text.startswith("多谢刘柯的邀请！这也是个有意思的提问。")


def test_article_reading_list_becomes_cited_mentions(fixtures_dir: Path) -> None:
    result = parse(
        fixtures_dir / "sources" / "zhihu_article_reading_list.html", "https://zhuanlan.zhihu.com/p/100000001"
    )
    post, course = result.items
    assert (post.kind, post.title, post.url) == (
        ItemKind.POST,
        "深度学习理论阅读清单",
        "https://zhuanlan.zhihu.com/p/100000001",
    )
    assert post.published == dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    cited = [(m.title, m.arxiv_id, m.version, m.text) for m in post.cited]
    assert cited == [
        (
            "Recent advances in deep learning theory",
            "2012.10931",
            None,
            "综述，按研究方向把近年的理论结果分成几组（2020）",
        ),
        (
            "The Principles of Deep Learning Theory",
            "2106.10165",
            2,
            "从有限宽度出发，用有效理论的语言讨论深度网络",
        ),
        ("Deep Learning Architectures: A Mathematical Approach", None, None, "一本偏数学的教材，没有放链接"),
        ("", "1806.07572", None, "另见 关于神经正切核的原始论文"),
    ]
    assert all(m.kind is ItemKind.MENTION and m.lang == "zh" for m in post.cited)
    # Zhihu's link.zhihu.com wrapper is removed; the course link is a course, not a cited paper
    assert "https://arxiv.org/abs/2012.10931" in post.links
    assert "https://www.cs.toronto.edu/~rgrosse/courses/csc2541_2021/" in post.links
    assert (course.kind, course.title, course.url, dict(course.extra), course.text) == (
        ItemKind.OTHER,
        "CSC2541 Neural Net Training Dynamics",
        "https://www.cs.toronto.edu/~rgrosse/courses/csc2541_2021/",
        {"category": "course"},
        "多伦多大学的课程",
    )


def test_article_dom_fallback_without_json(fixtures_dir: Path) -> None:
    html = (fixtures_dir / "sources" / "zhihu_article_reading_list.html").read_text(encoding="utf-8")
    without_json = html.split('<script id="js-initialData"')[0] + "</body></html>"
    result = KIND.parse_bytes(without_json.encode(), url="https://zhuanlan.zhihu.com/p/100000001?utm=x")
    post, course = result.items
    assert course.kind is ItemKind.OTHER
    assert post.title == "深度学习理论阅读清单"
    assert post.url == "https://zhuanlan.zhihu.com/p/100000001"
    assert [m.arxiv_id for m in post.cited] == ["2012.10931", "2106.10165", None, "1806.07572"]


def test_v4_column_items_json_pages_on(fixtures_dir: Path) -> None:
    result = parse(fixtures_dir / "sources" / "zhihu_v4_column_items.json")
    assert [item.url for item in result.items] == [url for url, _, _ in COLUMN_ARTICLES]
    assert [item.title for item in result.items] == [title for _, title, _ in COLUMN_ARTICLES]
    assert result.next_urls == (
        "https://www.zhihu.com/api/v4/columns/c_1335313713054887936/items?limit=3&offset=3",
    )
    assert result.items[2].published == dt.datetime(2021, 1, 20, 11, 49, 20, tzinfo=dt.UTC)


def test_changed_layout_gives_a_warning() -> None:
    result = KIND.parse_bytes(b"<html><body><div id='root'></div></body></html>", source_id="zhihu-col")
    assert result.items == ()
    assert result.warnings == ("0 items parsed from a 200 response",)


def test_seed_002_text_rendering_of_a_reading_list(shared_dir: Path) -> None:
    (path,) = (shared_dir / "seeds").glob("002_*.txt")
    result = KIND.parse_bytes(path.read_bytes(), url="https://zhuanlan.zhihu.com/p/1", source_id="zhihu-list")
    post, *others = result.items
    assert post.kind is ItemKind.POST and post.title == "整理了一些深度学习的理论相关内容,持续更新。"
    cited = {mention.title: mention for mention in post.cited}
    # 33 before: a programme and two chaired sessions ("会议", "主持") were cited as papers
    # 31: the English-only "Robust Learning with Jacobian Regularization(2019)..." line counts
    # 29: an ICM talk and a course code's course are not cited as papers
    assert len(cited) == 29
    events = {"Foundations of Deep Learning", "Deep Learning Theory 4", "Deep Learning Theory 5"}
    assert not events & set(cited)
    implicit = cited[
        "Implicit Regularization in Tensor Factorization: Can Tensor Rank Shed Light on Generalization in Deep Learning?"
    ]
    assert implicit.text == "Tensor Rank 能否揭示深度学习中的泛化?"
    assert implicit.lang == "zh" and dict(implicit.extra)["year"] == "2021"
    assert "Theory of Deep Learning" not in cited  # a course, not a paper
    # the courses, talks and code a notes page finds on the same text, for "talks and courses"
    notes = REGISTRY["notes_page"].parse_bytes(path.read_bytes(), url="https://zhuanlan.zhihu.com/p/1")
    resources = [(i.title, dict(i.extra)["category"]) for i in notes.items if i.kind is ItemKind.OTHER]
    assert [(i.title, dict(i.extra)["category"]) for i in others] == resources
    assert ("Theory of Deep Learning", "course") in resources and ("redunet_paper", "code") in resources
    assert all(i.kind is ItemKind.OTHER and i.source_id == "zhihu-list" for i in others)


def test_current_answer_page_json() -> None:
    # the 2015 answer of the legacy recording, in today's page shape (content shortened)
    state = {
        "initialState": {
            "entities": {
                "answers": {
                    "30975949": {
                        "id": 30975949,
                        "content": "<p>多谢邀请。另见 <a href='https://arxiv.org/abs/1611.03530'>这篇论文</a>。</p>",
                        "author": {"name": "甜阁下"},
                        "question": {"id": 24825703, "title": "关系亲密的人之间要说「谢谢」吗？"},
                        "createdTime": 1411567255,
                        "updatedTime": 1411653655,
                    }
                }
            }
        }
    }
    page = (
        '<html><body><div id="root"></div><script id="js-initialData" type="text/json">'
        + json.dumps(state, ensure_ascii=False)
        + "</script></body></html>"
    )
    (answer,) = KIND.parse_bytes(page.encode()).items
    assert answer.url == "https://www.zhihu.com/question/24825703/answer/30975949"
    assert (answer.title, answer.authors) == ("关系亲密的人之间要说「谢谢」吗？", ("甜阁下",))
    assert answer.published == dt.datetime.fromtimestamp(1411567255, tz=dt.UTC)
    # a generic anchor text ("这篇论文", "this paper") is not taken as the title
    assert [(m.arxiv_id, m.title) for m in answer.cited] == [("1611.03530", "")]


# --- article pages whose markup moved (hand-written: tests/fixtures/sources/zhihu_article_*.html) ---


def test_formula_images_redirect_links_and_a_title_with_markup(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "zhihu_article_formulas.html").read_bytes()
    result = KIND.parse_bytes(content, source_id="zhihu-ntk")
    (post,) = result.items
    assert post.title == "NTK & 宽网络的 收敛 理论"
    assert post.url == "https://zhuanlan.zhihu.com/p/100000003"
    assert post.published == dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC)
    # the formula images keep their TeX (alt text, else the tex= of the image URL)
    assert post.text.startswith("NTK 的收敛速度 $O(1/\\sqrt{m})$ 的证明见下列论文")
    ntk, du, belkin = post.cited
    assert (ntk.arxiv_id, ntk.version, ntk.url) == ("1806.07572", 4, "https://arxiv.org/pdf/1806.07572v4.pdf")
    assert ntk.title == "Neural Tangent Kernel: Convergence and Generalization in Neural Networks"
    # the link.zhihu.com wrapper is gone; the brackets that held the link are not commentary
    assert (du.arxiv_id, du.url) == ("1810.02054", "http://arxiv.org/abs/1810.02054")
    assert du.title == "Gradient Descent Provably Optimizes Over-parameterized Neural Networks"
    assert du.text == "杜少雷等，宽度 $m=\\Omega(n^6)$ 时的全局收敛"
    assert (belkin.doi, belkin.arxiv_id) == ("10.1073/pnas.1903070116", None)


def test_article_whose_json_lacks_the_body_reads_the_rendered_one(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "zhihu_article_lazy_body.html").read_bytes()
    (post,) = KIND.parse_bytes(content, source_id="zhihu-gen").items
    assert (post.title, post.url) == ("泛化理论阅读", "https://zhuanlan.zhihu.com/p/100000004")
    assert [(m.arxiv_id, m.text) for m in post.cited] == [
        ("1611.03530", "随机标签也能被记住"),
        ("1703.04933", "尖锐极小值的反例"),
    ]


def test_saved_article_without_heading_or_address_takes_the_document_title() -> None:
    page = (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>阅读清单 - 知乎</title></head>'
        "<body>"
        '<div class="RichText ztext Post-RichText"><p><a href="https://link.zhihu.com/?target='
        'https%3A//arxiv.org/abs/1806.07572">Neural Tangent Kernel</a> 经典。</p></div></body></html>'
    )
    (post,) = KIND.parse_bytes(page.encode(), source_id="zhihu-saved").items
    assert (post.title, post.url) == ("阅读清单", None)
    assert [m.arxiv_id for m in post.cited] == ["1806.07572"]


def test_times_without_offset_are_beijing_time() -> None:
    # an article whose JSON gives its times as text without offset (Zhihu shows Beijing time)
    state = {
        "initialState": {
            "entities": {
                "articles": {
                    "100000009": {
                        "id": 100000009,
                        "type": "article",
                        "title": "周一早上的读书笔记",
                        "content": "<p>见 <a href='https://arxiv.org/abs/2106.10165'>PDLT</a>。</p>",
                        "author": {"name": "读者"},
                        "created": "2026-11-23 07:30:00",
                        "updated": "2026-11-23 21:05:00",
                    }
                }
            }
        }
    }
    page = (
        '<html><body><div id="root"></div><script id="js-initialData" type="text/json">'
        + json.dumps(state, ensure_ascii=False)
        + "</script></body></html>"
    )
    (post,) = KIND.parse_bytes(page.encode(), url="https://zhuanlan.zhihu.com/p/100000009").items
    # 07:30 Monday in Beijing is still Sunday in UTC: the week before, not 8 hours later
    assert post.published == dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)
    assert post.updated == dt.datetime(2026, 11, 23, 13, 5, tzinfo=dt.UTC)


# Fields of the wrong JSON type and entries that cannot be read (review r1, finding 2)


def test_fields_of_the_wrong_json_type_are_ignored_or_the_entry_left_out(fixtures_dir: Path) -> None:
    result = parse(fixtures_dir / "sources" / "zhihu_v4_wrong_types.json")
    posts = {post.url: post for post in result.items}
    assert list(posts) == [
        "https://zhuanlan.zhihu.com/p/348810960",  # an int url: the address comes from the id
        "https://zhuanlan.zhihu.com/p/347402803",
        "https://zhuanlan.zhihu.com/p/345790344",
    ]
    first, second, numbered = posts.values()
    assert first.title == "amis在bigo人工智能训练平台落地实践"
    assert first.published is None  # 9999-12-31T23:59:59-14:00 has no UTC moment
    assert first.updated == dt.datetime(2021, 2, 3, 2, 5, 47, tzinfo=dt.UTC)
    # a float excerpt and a list body are no text; 1e999 is no timestamp
    assert (second.title, second.text, second.cited) == ("【bigo】前端配置系统pear", "", ())
    assert second.published == dt.datetime(2021, 1, 27, 6, 39, 4, tzinfo=dt.UTC)
    assert second.updated is None
    assert (numbered.title, numbered.authors, numbered.published) == ("2048", ("bigo前端",), None)
    # an object where the title belongs is no article: left out, named by its id
    assert result.warnings == (
        "article 345790344 {'text': '【bigo前端】如何截取gif首帧图片'} skipped: could not be read "
        "(ValueError: its title is a JSON dict, not text)",
    )
    assert result.next_urls == (
        "https://www.zhihu.com/api/v4/columns/c_1335313713054887936/items?limit=4&offset=4",
    )


def test_a_column_list_whose_every_entry_fails_says_so(fixtures_dir: Path) -> None:
    data = json.loads((fixtures_dir / "sources" / "zhihu_v4_column_items.json").read_text(encoding="utf-8"))
    for entry in data["data"]:
        entry["title"] = [entry["title"]]
    with pytest.raises(ParseError, match="none of the page's 3 entries could be read"):
        KIND.parse_bytes(json.dumps(data).encode(), source_id="zhihu-col")


def test_an_article_whose_json_entry_is_unreadable_is_read_from_its_rendered_page(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "zhihu_article_lazy_body.html").read_bytes()
    odd = content.replace('"title": "泛化理论阅读"'.encode(), '"title": {"zh": "泛化理论阅读"}'.encode())
    assert odd != content
    (post,) = KIND.parse_bytes(odd, source_id="zhihu-gen").items
    assert post.title == "泛化理论阅读"
    assert [mention.arxiv_id for mention in post.cited] == ["1611.03530", "1703.04933"]


def test_embedded_json_of_the_wrong_shape_falls_back_to_the_page(fixtures_dir: Path) -> None:
    content = (fixtures_dir / "sources" / "zhihu_article_lazy_body.html").read_bytes()
    start = content.index(b'{"initialState"')
    end = content.index(b"</script>", start)
    for state in (
        b'{"initialState": {"entities": []}}',
        b'{"initialState": {"entities": {"articles": [1]}}}',
    ):
        (post,) = KIND.parse_bytes(content[:start] + state + content[end:], source_id="zhihu-gen").items
        assert post.title == "泛化理论阅读"


def test_a_json_body_nested_past_the_limit_drops_only_its_article(fixtures_dir: Path) -> None:
    from dltheory_digest.sources.decode import MAX_NESTING

    data = json.loads((fixtures_dir / "sources" / "zhihu_v4_column_items.json").read_text(encoding="utf-8"))
    first = data["data"][0]
    # JSON escapes the tags (\u003c), so only the article's own check can see the depth
    first["content"] = "<div>" * (MAX_NESTING + 1) + "x" + "</div>" * (MAX_NESTING + 1)
    result = KIND.parse_bytes(json.dumps(data).encode(), source_id="zhihu-col")
    assert len(result.items) == len(data["data"]) - 1
    assert first["title"] not in {post.title for post in result.items}
    (warning,) = result.warnings
    assert "skipped" in warning and f"nested more than {MAX_NESTING:,} levels" in warning


def test_reading_list_titles_with_formula_images_are_cited_without_a_link() -> None:
    # Zhihu shows a title's formula as an image; its TeX is kept as $…$, and the title with it
    formula = '<img src="https://www.zhihu.com/equation?tex=%5Cell_1" alt="\\ell_1" eeimg="1"/>'
    page = (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>稀疏与重尾 - 知乎</title></head>'
        '<body><div class="RichText ztext Post-RichText">'
        "<p>整理了几篇关于稀疏回归和重尾噪声的理论论文，附上简短的评论。</p>"
        f"<p>{formula}-Regularized Linear Regression: Persistence and Oracle Inequalities（2009）"
        "经典的 Lasso 理论。</p>"
        "<p>Heavy Tails of α-Stable Gradient Noise in Deep Networks（2019）重尾噪声。</p>"
        "</div></body></html>"
    )
    (post,) = KIND.parse_bytes(page.encode(), source_id="zhihu-saved").items
    assert [(m.kind, m.title, m.text, dict(m.extra)) for m in post.cited] == [
        (
            ItemKind.MENTION,
            r"$\ell_1$-Regularized Linear Regression: Persistence and Oracle Inequalities",
            "经典的 Lasso 理论",
            {"evidence": "title_only", "year": "2009"},
        ),
        (
            ItemKind.MENTION,
            "Heavy Tails of α-Stable Gradient Noise in Deep Networks",
            "重尾噪声",
            {"evidence": "title_only", "year": "2019"},
        ),
    ]
