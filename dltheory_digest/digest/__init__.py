"""The week's digest: build it from clusters, filter it per reader, render Markdown and HTML.

    text    summaries, author lists, Markdown escaping of scraped text
    build   build_digest (pure), its JSON form, filter_for_reader
           build_resources: the videos and courses notes pages list ("New talks and courses")
    render  render_markdown (templates/digest.md.j2) in English or a translated Edition
    html    render_html: markdown-it-py -> nh3 -> inline CSS, for email; render_plain_text

Building is a pure function of its inputs and rendering sorts everything and stamps no
"now", so the same week on the same store gives a byte-identical file. Scraped text never
reaches Markdown unescaped (see `md_text`), and the HTML made from the Markdown is
sanitized with nh3 before our own inline styles are added, so nothing a source wrote can
inject script, handlers, links to `javascript:`, styles or images.
"""

from dltheory_digest.digest.build import (
    ALSO_MIN_SCORE,
    BACKLOG_MIN,
    RESOURCE_BACKLOG_MIN,
    all_entries,
    also_directions,
    build_digest,
    build_resources,
    canonical_link,
    digest_from_json,
    digest_to_json,
    filter_for_reader,
    post_targets,
    resource_category,
    resource_key,
    resource_texts,
    with_item_texts,
)
from dltheory_digest.digest.html import email_styles, render_html, render_plain_text, sanitize_html
from dltheory_digest.digest.render import (
    ENGLISH,
    Edition,
    Shortened,
    describe_filters,
    hand_written_direction,
    labels_for,
    reader_copy,
    reader_notes,
    render_markdown,
    shared_words,
    subject_for,
    translatable_texts,
)
from dltheory_digest.digest.text import (
    MATH_SPAN,
    TITLE_MAX_CHARS,
    display_title,
    excerpt,
    md_link,
    md_text,
    safe_url,
    shorten_authors,
    slugify,
    split_sentences,
    summarize,
)

__all__ = [
    "ALSO_MIN_SCORE",
    "BACKLOG_MIN",
    "ENGLISH",
    "MATH_SPAN",
    "RESOURCE_BACKLOG_MIN",
    "TITLE_MAX_CHARS",
    "Edition",
    "Shortened",
    "all_entries",
    "also_directions",
    "build_digest",
    "build_resources",
    "canonical_link",
    "describe_filters",
    "digest_from_json",
    "digest_to_json",
    "display_title",
    "email_styles",
    "excerpt",
    "filter_for_reader",
    "hand_written_direction",
    "labels_for",
    "md_link",
    "md_text",
    "post_targets",
    "reader_copy",
    "reader_notes",
    "render_html",
    "render_markdown",
    "render_plain_text",
    "resource_category",
    "resource_key",
    "resource_texts",
    "safe_url",
    "sanitize_html",
    "shared_words",
    "shorten_authors",
    "slugify",
    "split_sentences",
    "subject_for",
    "summarize",
    "translatable_texts",
    "with_item_texts",
]
