"""Credentials hidden in URLs shown to people: a source's URL (fetch) and the store's URL (store)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# Query (or fragment) parameters whose values are credentials: a private feed's ?token=, an
# API's ?key=, an access_token, a signed URL's X-Amz-Signature, libpq's ?password= and
# ?sslpassword=. Matched on the whole name, or its last part after "_", "-" or ".", so
# ?keywords= and ?monkey= are left alone.
_SECRET_PARAM = re.compile(
    r"(?:.*[_.-])?(?:token|key|apikey|secret|password|sslpassword|passwd|pwd|pass|auth|signature|sig"
    r"|credentials?|session|sessionid)",
    re.IGNORECASE,
)
# A URL inside free text (an error message, a warning): up to a space, a quote or a bracket.
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_TRAILING_PUNCTUATION = ".,;:!?)]}"
REDACTED = "REDACTED"


def redact_url(url: str, *, keep_user: bool = False) -> str:
    """`url` with its credentials replaced by REDACTED: the userinfo (user:password@ or a bare
    token@) and the values of credential-like query and fragment parameters; the rest is kept
    as written. For everything a user may read: messages, logs, reports, stored records.

    `keep_user` keeps the user name of `user:password@` and a bare `user@` (a database URL's
    userinfo names a role, where a web URL's bare userinfo is often a token)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        if not keep_user:
            netloc = f"{REDACTED}@{host}"
        elif colon:
            netloc = f"{user}:{REDACTED}@{host}"
    query, fragment = _redact_params(parts.query), _redact_params(parts.fragment)
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    # rebuilt by hand: urlunsplit would drop an empty "?" or "#" and re-join differently
    rebuilt = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else f"{netloc}{parts.path}"
    if query or "?" in url:
        rebuilt += f"?{query}"
    if fragment or "#" in url:
        rebuilt += f"#{fragment}"
    return rebuilt


def _redact_params(params: str) -> str:
    if "=" not in params:
        return params
    pieces = []
    for piece in params.split("&"):
        name, equals, _value = piece.partition("=")
        secret = equals and _SECRET_PARAM.fullmatch(unquote(name).strip())
        pieces.append(f"{name}={REDACTED}" if secret else piece)
    return "&".join(pieces)


def redact(text: str) -> str:
    """`text` with every URL in it passed through `redact_url`."""

    def one(found: re.Match[str]) -> str:
        url = found.group(0)
        kept = url.rstrip(_TRAILING_PUNCTUATION)
        return redact_url(kept) + url[len(kept) :]

    return _URL_IN_TEXT.sub(one, text) if "://" in text else text
