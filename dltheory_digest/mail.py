"""The only SMTP code: build each reader's edition, send it once, and keep the delivery ledger.

Per reader: the digest is filtered (`digest.filter_for_reader`), translated for zh/ar
editions (titles stay in English beside the translation; without a usable translation the
edition falls back to English and tells the reader so in their language), rendered to
Markdown + HTML, and sent as `multipart/alternative`.

The ledger (`store.deliveries`) makes a rerun of the same week send nothing unless `resend`
is asked for, and each reader's row is reserved before the SMTP exchange, so two runs at
once never mail a reader twice. A resend carries a new Message-ID (clients drop a message
whose id they have seen) with the first one in `References`. A failed send is retried with
back-off, recorded, and does not stop the other readers, except when the server itself
cannot be reached, refuses the session (connection, TLS, login) or the sender (MAIL FROM), or
stops answering: that is the same for everyone, so the remaining readers are recorded as
failed without being tried, and the error names the setting to change. A message whose body
was handed over before the server's answer was lost (a timeout after DATA) is never tried
again by itself: the server may have delivered it, so it is recorded `unconfirmed` and only
`resend` sends it again. The password is a `SecretStr` and is scrubbed from every error text
this module produces, so it never reaches logs, results or artifacts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import ipaddress
import json
import logging
import re
import secrets
import signal
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr

from dltheory_digest import digest as digest_stage
from dltheory_digest.config import Reader, Settings
from dltheory_digest.digest.text import without_bidi_controls
from dltheory_digest.errors import ConfigError, DeliveryError, TranslationUnavailable
from dltheory_digest.models import Digest, DigestPaper
from dltheory_digest.weeks import as_utc

if TYPE_CHECKING:
    import datetime as dt

    from typing_extensions import Buffer

    from dltheory_digest.language.glossary import Glossary
    from dltheory_digest.store import Store
    from dltheory_digest.store.deliveries import Delivery, Reservation

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "ssl"]
SMTP_BLOCK_ENV = "DLTHEORY_SMTP_BLOCK"  # name of a Prefect Secret block holding the SMTP settings


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. `ca_file` trusts an extra CA (a private relay, the tests' self-signed cert)."""

    host: str
    port: int
    user: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    security: Security = "none"
    mail_from: str = "dltheory-digest@localhost"
    timeout: float = 30.0
    ca_file: str | None = None
    # a mailto: or https: address readers can unsubscribe with (List-Unsubscribe header)
    list_unsubscribe: str | None = None

    def __post_init__(self) -> None:
        if self.security not in ("none", "starttls", "ssl"):
            raise ConfigError(f"smtp_security: expected none, starttls or ssl, got {self.security!r}")

    @classmethod
    def from_settings(cls, settings: Settings, *, block: str | None = None) -> SmtpSettings:
        """From `DLTHEORY_SMTP_*`/`DLTHEORY_MAIL_FROM` settings, overlaid by a Prefect Secret block when one
        is named (argument, or the `smtp_block` setting, which `DLTHEORY_SMTP_BLOCK` sets)."""
        values: dict[str, Any] = {
            "host": settings.smtp_host,
            "port": settings.smtp_port,
            "user": settings.smtp_user,
            "password": settings.smtp_password,
            "security": settings.smtp_security,
            "mail_from": settings.mail_from,
            "list_unsubscribe": settings.list_unsubscribe,  # None: no List-Unsubscribe header
            "ca_file": str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
        }
        block = block or settings.smtp_block
        if block:
            values.update({k: v for k, v in _load_block(block).items() if v is not None})
        return cls._from_values(values)

    @classmethod
    def from_block(cls, name: str) -> SmtpSettings:
        """From a Prefect Secret block whose value is a JSON object with host, port, user, password,
        security, mail_from and ca_file."""
        return cls._from_values(_load_block(name))

    @classmethod
    def _from_values(cls, values: Mapping[str, Any]) -> SmtpSettings:
        host = values.get("host")
        if not host:
            raise ConfigError(
                "smtp_host is not set: set DLTHEORY_SMTP_HOST (and DLTHEORY_SMTP_PORT, DLTHEORY_MAIL_FROM) "
                f"or name a Prefect Secret block in {SMTP_BLOCK_ENV} (setting smtp_block)",
                field="smtp_host",
            )
        security = str(values.get("security") or "none").lower()
        if security not in ("none", "starttls", "ssl"):
            raise ConfigError(
                f"smtp_security: expected none, starttls or ssl, got {security!r}", field="smtp_security"
            )
        port = values.get("port") or {"ssl": 465, "starttls": 587}.get(security, 25)
        password = values.get("password")
        if password is not None and not isinstance(password, SecretStr):
            password = SecretStr(str(password))
        mail_from = values.get("mail_from") or f"dltheory-digest@{mail_domain(str(host))}"
        ca_file = values.get("ca_file")
        if ca_file and not Path(str(ca_file)).expanduser().is_file():
            # found now, not as a TLS failure after the week's fetch
            raise ConfigError(f"smtp_ca_file: {ca_file} is not a file", field="smtp_ca_file")
        if ca_file:
            _ssl_context_with(str(Path(str(ca_file)).expanduser()))  # a file without PEM certificates too
        return cls(
            host=str(host),
            port=int(port),
            user=values.get("user") or None,
            password=password,
            security=security,  # type: ignore[arg-type]  # checked just above
            mail_from=str(mail_from),
            ca_file=str(Path(str(ca_file)).expanduser()) if ca_file else None,
            list_unsubscribe=values.get("list_unsubscribe") or None,
        )

    @property
    def server(self) -> str:
        """host:port, as error texts name the server."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def domain(self) -> str:
        address = parseaddr(self.mail_from)[1]
        return address.rpartition("@")[2] or "localhost"

    def scrub(self, text: str) -> str:
        """`text` with the password blanked, and every base64 token whose bytes hold it (its
        own encoding, an AUTH PLAIN argument a server echoed)."""
        if self.password is None:
            return text
        secret = self.password.get_secret_value()
        if not secret:
            return text
        import base64
        import binascii

        raw = secret.encode()

        def blank_if_encoding_secret(match: re.Match[str]) -> str:
            # AUTH PLAIN sends base64("\0user\0password"), echoed by some servers in their reply:
            # the password sits at any offset of the decoded bytes, so the encoding of the
            # password alone is not in it. The token is decoded from each of the 4 alignments,
            # in case letters before it were glued to it.
            token = match.group().rstrip("=")
            for start in range(4):
                chunk = token[start:]
                chunk = chunk[: len(chunk) - 1] if len(chunk) % 4 == 1 else chunk
                try:
                    decoded = base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True)
                except (binascii.Error, ValueError):
                    continue
                if raw in decoded:
                    return "***"
            return match.group()

        # whole tokens first: blanking the password's own encoding inside one would leave the rest
        text = re.sub(r"[A-Za-z0-9+/]{4,}=*", blank_if_encoding_secret, text)
        for form in {secret, base64.b64encode(raw).decode()}:
            text = text.replace(form, "***")
        return text


def _count(papers: int | None) -> str:
    return "?" if papers is None else str(papers)


def mail_domain(host: str) -> str:
    """The domain part for addresses and Message-IDs made from a server name: an IP address
    becomes an address literal (`[127.0.0.1]`, `[IPv6:::1]`, RFC 5321), a dotless name `localhost`."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host if "." in host else "localhost"
    return f"[{ip}]" if ip.version == 4 else f"[IPv6:{ip}]"


def _load_block(name: str) -> dict[str, Any]:
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()  # type: ignore[union-attr]
    except Exception as exc:  # Prefect raises ValueError and friends for a missing block
        raise ConfigError(f"Prefect Secret block {name!r} with the SMTP settings: {exc}") from None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(
                f"Prefect Secret block {name!r}: expected a JSON object of SMTP settings"
            ) from None
    if not isinstance(value, Mapping):
        raise ConfigError(f"Prefect Secret block {name!r}: expected a JSON object of SMTP settings")
    aliases = {
        "username": "user", "server": "host", "smtp_server": "host", "smtp_port": "port",
        "smtp_ca_file": "ca_file",
    }  # fmt: skip
    return {aliases.get(str(k), str(k)): v for k, v in value.items()}


# ---------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------


def message_id_for(week: str, reader: str, domain: str, sequence: int = 0, token: str = "") -> str:
    """The Message-ID of the `sequence`-th message of (week, reader): 0 is the first delivery, 1,
    2... the resends. The address is hashed, not shown. `token` (hex, up to 8 digits) replaces
    the hash's last digits to tell apart deliveries recorded in different ledgers: clients
    silently drop a message whose id they have seen, so a real digest must not reuse the id of
    the demo's mail or of a store since deleted. The id is as long as without a token."""
    hashed = hashlib.sha256(f"{week}\n{reader.strip().lower()}".encode()).hexdigest()[: 20 - len(token)]
    suffix = f".{sequence}" if sequence else ""
    return f"<dltheory-digest.{week}.{hashed}{token}{suffix}@{domain}>"


_SEQUENCE = re.compile(r"^(<dltheory-digest\.[^.@]+\.[0-9a-f]{20})(?:\.(\d+))?@([^>]*)>$")


def _sequence_of(message_id: str) -> int:
    match = _SEQUENCE.match(message_id)
    return int(match.group(2)) if match and match.group(2) else 0


def _first_of(message_id: str) -> str:
    """The id of the first message of the sequence `message_id` belongs to (what resends thread to)."""
    match = _SEQUENCE.match(message_id)
    return f"{match.group(1)}@{match.group(3)}>" if match else message_id


def clean_subject(subject: str) -> str:
    """The subject without bidi controls (in a Subject they can reorder what a client shows,
    and many clients draw them as boxes) or line breaks."""
    return " ".join(without_bidi_controls(subject).split())


def list_id_for(domain: str) -> str:
    """`List-Id` (RFC 2919): its namespace must be a domain name, so an address literal uses `localhost`."""
    namespace = domain if "." in domain and not domain.startswith("[") else "localhost"
    return f"DL theory digest <dltheory-digest.{namespace}>"


def _unsubscribe_header(value: str, reader: str) -> str:
    """`List-Unsubscribe` (RFC 2369) with `{email}` in each URI filled with the reader's address,
    percent-encoded (its "@" as it is in a `mailto:` URI), so the endpoint knows who unsubscribes."""
    uris = []
    for part in (p.strip().strip("<>").strip() for p in value.split(",")):
        if not part:
            continue
        if "{email}" in part:
            https = part.lower().startswith("https:")
            part = part.replace("{email}", quote(reader, safe="" if https else "@"))
        uris.append(f"<{part}>")
    return ", ".join(uris)


_QUOTED_PRINTABLE_ESCAPED = bytes(range(128, 256)) + b"="


def _transfer_encoding(text: str) -> str:
    """The shorter encoding of `text` in bytes. Quoted-printable keeps mostly-ASCII text legible
    in raw form but writes each UTF-8 byte past ASCII (and "=") as three: a Chinese character
    costs 9 bytes, an Arabic one 6, where base64 costs 4 and 2.7. So base64 is shorter from
    about 6 % Chinese or 12 % Arabic characters on, which an ordinary zh/ar edition holds."""
    data = text.encode("utf-8")
    escaped = len(data) - len(data.translate(None, _QUOTED_PRINTABLE_ESCAPED))
    quoted_printable = len(data) + 2 * escaped
    base64 = 4 * -(-len(data) // 3)
    return "base64" if base64 < quoted_printable else "quoted-printable"


def build_message(
    *,
    markdown: str,
    html: str,
    subject: str,
    sender: str,
    to: str,
    message_id: str,
    language: str | None = None,
    date: dt.datetime | None = None,
    attachment: tuple[str, str] | None = None,
    to_name: str | None = None,
    references: str | None = None,
    list_id: str | None = None,
    list_unsubscribe: str | None = None,
) -> EmailMessage:
    """`multipart/alternative`: the Markdown as text/plain, the HTML after it (the part clients
    prefer); with an `attachment` (file name, Markdown), `multipart/mixed` around both.
    `to_name` is the reader's display name; `references` the first message's id, so a resend
    threads with it."""
    import datetime as dt

    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = clean_subject(subject)  # the policy encodes non-ASCII (RFC 2047, UTF-8)
    message["From"] = _address_header(sender)
    message["To"] = _address_header(to, to_name)
    message["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id
    if references and references != message_id:
        message["References"] = references
    if list_id:
        message["List-Id"] = list_id
    if list_unsubscribe:
        unsubscribe = _unsubscribe_header(list_unsubscribe, parseaddr(to)[1] or to)
        message["List-Unsubscribe"] = unsubscribe
        if "<https:" in unsubscribe.lower():
            # RFC 8058: the provider may POST to the https: URI itself (Gmail's one-click unsubscribe)
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    # no <details> or #anchor links in plain text; an Arabic edition reads right to left, as its HTML
    plain = digest_stage.render_plain_text(markdown, language=language)
    message.set_content(plain, subtype="plain", charset="utf-8", cte=_transfer_encoding(plain))
    message.add_alternative(html, subtype="html", charset="utf-8", cte=_transfer_encoding(html))
    if attachment:
        name, text = attachment
        message.add_attachment(
            text, subtype="markdown", charset="utf-8", filename=name, cte=_transfer_encoding(text)
        )
    if language:  # after set_content, which drops Content-* headers
        message["Content-Language"] = language
    return message


def _address_header(value: str, display_name: str | None = None) -> str | Address:
    name, address = parseaddr(value)
    if not address or "@" not in address:
        return value
    user, _, domain = address.rpartition("@")
    # a configured name may hold anything: no line breaks or bidi controls in a header
    shown = clean_subject(display_name) if display_name else name
    return Address(display_name=shown, username=user, domain=domain)


# ---------------------------------------------------------------------------------------
# Editions
# ---------------------------------------------------------------------------------------


class Translator(Protocol):
    """What delivery needs from `dltheory_digest.language.Translator`."""

    def translate_many(self, texts: list[str], from_code: str, to_code: str) -> Sequence[Any]: ...


def _translated_text(result: Any) -> str | None:
    if isinstance(result, str):
        return result
    for attr in ("translated", "text", "target", "english"):
        value = getattr(result, attr, None)
        if isinstance(value, str):
            return value
    return None


def _plausible(source: str, translated: str) -> bool:
    """A degenerate model output (a runaway repetition) is dropped: that text stays in English
    rather than flooding a heading or the table of contents."""
    return bool(translated.strip()) and len(translated) <= 3 * len(source) + 40


def _keep_math(source: str, translated: str) -> str:
    """Inline LaTeX the model dropped or mangled is appended verbatim, so formulas stay readable.
    Spacing does not count (TeX ignores it): a formula the translator only re-spaced
    (`$ O(1/n) $`) is kept as it came, not shown twice."""

    def unspaced(text: str) -> str:
        return "".join(text.split())

    kept = unspaced(translated)
    formulas = dict.fromkeys(m.group(0) for m in digest_stage.MATH_SPAN.finditer(source))
    missing = [f for f in formulas if unspaced(f) not in kept]
    return f"{translated} ({' '.join(missing)})" if missing else translated


# The edition languages by name, for the operator's messages ("an Arabic edition").
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "ar": "Arabic"}


def language_name(code: str) -> str:
    """`ar` -> Arabic; a code without a name stays as it is."""
    return LANGUAGE_NAMES.get(code, code)


@dataclass(frozen=True)
class MadeEdition:
    """An edition and, when it fell back to English, the operator's reason (with the command to
    fix it) for the log and the delivery table; the reader sees only `edition.note`, a line of
    the hand-written labels in their language."""

    edition: digest_stage.Edition
    reason: str | None = None
    # the reason in a few words, after "sent, in English: " on the console
    fallback: str | None = None


# An edition is sent translated when at least this share of its own texts (titles, summaries,
# direction names, reasons) got a usable translation; a text whose output is unusable stays in
# English beside the others. Below the share the reader would get a mostly English edition
# under translated headings, which reads worse than a plain English one: it is sent in English.
MIN_TRANSLATED_SHARE = 0.5


class _EditionMaker:
    """Builds zh/ar editions for the readers of one run.

    Shared across editions: the translations (each English text is translated once per
    language) and a missing model (it is missing for every edition of that language).
    Not shared: whether an edition is usable, judged on that edition's texts alone, so a
    reader whose filtered digest is unusable does not turn the next reader's into English.
    """

    def __init__(self, translator: Translator | None) -> None:
        self.translator = translator
        self.cache: dict[tuple[str, str], str] = {}
        self.unusable: set[tuple[str, str]] = set()  # texts whose output was dropped
        self.models: dict[str, str] = {}
        self.unavailable: dict[str, str] = {}  # language -> why there is no model

    def edition(self, digest: Digest, language: str) -> digest_stage.Edition:
        return self.make(digest, language).edition

    def make(self, digest: Digest, language: str) -> MadeEdition:
        if language == "en":
            return MadeEdition(digest_stage.ENGLISH)
        texts = digest_stage.translatable_texts(digest, language)
        if not texts:
            # nothing to translate (an empty week, or filters that matched nothing): the
            # hand-written labels say all of it, so no model is needed or claimed
            return MadeEdition(digest_stage.Edition(language=language))
        if language in self.unavailable:
            return self._fallback(language, self.unavailable[language], _no_model(language))
        if self.translator is None:
            return self._unavailable(language, str(TranslationUnavailable("en", language)))
        missing = [t for t in texts if (language, t) not in self.cache and (language, t) not in self.unusable]
        if missing:
            try:
                results = self._translate(missing, language)
            except TranslationUnavailable as exc:
                return self._unavailable(language, str(exc))
            notes: list[str] = []
            for text, result in zip(missing, results, strict=True):
                translated = _translated_text(result)
                # a plain string is a translation; the language stage's result names its model,
                # and a note says the text was not translated (no model, or the output was
                # discarded and the original kept): that text stays in English, no other
                model = None if isinstance(result, str) else getattr(result, "model", None)
                note = None if isinstance(result, str) else getattr(result, "note", None)
                if model:
                    self.models[language] = str(model)
                elif not isinstance(result, str):
                    notes.append(str(note or ""))
                if translated and not note and _plausible(text, translated):
                    self.cache[(language, text)] = _keep_math(text, translated)
                else:
                    self.unusable.add((language, text))
            if len(notes) == len(missing) and language not in self.models:
                # no text had a model behind it: the language has no model at all
                reason = next((n for n in notes if n), str(TranslationUnavailable("en", language)))
                return self._unavailable(language, reason)
        translations = {t: self.cache[(language, t)] for t in texts if (language, t) in self.cache}
        model = self.models.get(language) or f"argos en→{language}"
        if texts and len(translations) < MIN_TRANSLATED_SHARE * len(set(texts)):
            if translations:
                reason = f"only {len(translations)} of {len(set(texts))} texts had a usable translation from {model}"
                short = f"the {language} translation was mostly unusable"
            else:
                reason = f"the output of {model} was unusable (runaway or empty)"
                short = f"the {language} translation was unusable"
            return self._fallback(language, reason, short)
        return MadeEdition(digest_stage.Edition(language=language, translations=translations, model=model))

    def _translate(self, texts: Sequence[str], language: str) -> Sequence[Any]:
        assert self.translator is not None
        return self.translator.translate_many(list(texts), "en", language)

    def _unavailable(self, language: str, reason: str) -> MadeEdition:
        self.unavailable[language] = reason
        return self._fallback(language, reason, _no_model(language))

    def _fallback(self, language: str, reason: str, short: str) -> MadeEdition:
        # the reader's line is hand-written (templates/labels.yaml), so it needs no model
        reader_note = digest_stage.labels_for(language)["untranslated"]
        # made before anything is sent (and for `send --dry-run` and `preview`, which send nothing)
        operator_note = f"{language_name(language)} edition requested; {reason}; in English"
        return MadeEdition(digest_stage.Edition(language=language, note=reader_note), operator_note, short)


def _no_model(language: str) -> str:
    return f"no usable en→{language} translation model"


def status_text(status: str, fallback: str | None = None) -> str:
    """A delivery's status for the console and the tables: "sent, in English: the zh translation
    was unusable" for a reader who asked for another language, never a bare "sent"."""
    if fallback and status in ("sent", "dry-run"):
        return f"{status}, in English: {fallback}"
    return status


def papers_text(status: str, papers: int | None) -> str:
    """The papers column: "—" for a reader sent nothing in this run (skipped: they have the week
    already, what it held is not recorded; held), "?" when only the week's Markdown is kept."""
    if status in ("skipped", "held"):
        return "—"
    return _count(papers)


@dataclass(frozen=True)
class Rendered:
    subject: str
    markdown: str
    html: str
    language: str  # the language the text is actually in
    translated_by: str | None
    note: str | None  # for the operator (log, delivery table), never shown to the reader
    papers: int | None  # None: unknown, only the week's Markdown is kept
    # when the message is shortened: (file name, the full digest's Markdown) to attach
    attachment: tuple[str, str] | None = None
    # why this reader is not sent this rendering at all (the week lacks what their edition needs)
    held: str | None = None
    # why a reader who asked for another language gets English (`MadeEdition.fallback`)
    fallback: str | None = None


# Gmail shows "[Message clipped]" past 102 KB of HTML and hides the rest, links included; a
# message over this budget is shortened and carries the full digest as an attachment. The
# budget is for the HTML part as sent: quoted-printable adds 15-25% ("=3D" in every attribute),
# base64 (a zh or ar edition's, when shorter: see `_transfer_encoding`) a third.
HTML_BUDGET = 100_000
# Papers per direction kept, tried in turn, when one line per paper still exceeds the budget;
# then the limit between the last one too big and the first that fits is bisected, in at most
# SHORTENED_SEARCH_RENDERS more renderings, so that the mail fills its budget (on a week of 474
# papers 25 is 132 KB and 10 only 72 KB: 15 fit, at 97 KB).
SHORTENED_LIMITS = (50, 25, 10, 5)
SHORTENED_SEARCH_RENDERS = 4


def html_part_size(html: str) -> int:
    """The bytes of the HTML part's body as sent (transfer-encoded), which is what mail clients
    that clip long messages count."""
    part = EmailMessage(policy=SMTP_POLICY)
    part.set_content(html, subtype="html", charset="utf-8", cte=_transfer_encoding(html))
    return len(str(part.get_payload()).encode("ascii"))


def render_edition(
    digest: Digest,
    edition: digest_stage.Edition,
    *,
    html_budget: int | None = None,
    operator_note: str | None = None,
    demo: bool = False,
    fallback: str | None = None,
) -> Rendered:
    """The message texts of one edition; `operator_note` (why it fell back to English) goes to the
    result, the reader sees the edition's own note. A `demo` edition (the bundled snapshot) says
    so in its subject and at the top of both parts."""
    # the reader's text: run notes in their words, no operator commands or source errors
    markdown = digest_stage.render_markdown(digest, edition, for_reader=True, demo=demo)
    language = edition.language if edition.localized else "en"
    subject = clean_subject(digest_stage.subject_for(digest, edition, demo=demo))
    html = digest_stage.render_html(markdown, language=language, title=subject)
    attachment = None
    budget = HTML_BUDGET if html_budget is None else html_budget
    if html_part_size(html) > budget:
        full_file = f"{digest.week}.md"
        attachment = (full_file, markdown)

        def rendered(shortened: digest_stage.Shortened) -> tuple[str, str, bool]:
            text = digest_stage.render_markdown(
                digest, edition, shortened=shortened, for_reader=True, demo=demo
            )
            part = digest_stage.render_html(text, language=language, title=subject)
            return text, part, html_part_size(part) <= budget

        # first the long lists (below the threshold, a list's backlog) go, then the summaries,
        # then the least relevant papers of each direction: a week of hundreds of papers
        # still exceeds the budget with one line each
        too_big = _longest_list(digest)  # a limit that cuts nothing: one line each, too big
        fitting: int | None = None
        for shortened in (
            digest_stage.Shortened(full_file),
            digest_stage.Shortened(full_file, one_line=True),
            *(digest_stage.Shortened(full_file, one_line=True, limit=n) for n in SHORTENED_LIMITS),
        ):
            markdown, html, fits = rendered(shortened)
            if fits:
                fitting = shortened.limit
                break
            too_big = shortened.limit or too_big
        # the most papers per direction that fit: between the fitting limit and the one too big
        for _ in range(SHORTENED_SEARCH_RENDERS):
            if fitting is None or too_big - fitting <= 1:
                break
            middle = (fitting + too_big) // 2
            text, part, fits = rendered(digest_stage.Shortened(full_file, one_line=True, limit=middle))
            if fits:
                fitting, markdown, html = middle, text, part
            else:
                too_big = middle
    return Rendered(
        subject=subject,
        markdown=markdown,
        html=html,
        language=language,
        translated_by=edition.model if edition.translations else None,
        note=operator_note or edition.note,
        papers=dict(digest.counts).get("papers", 0),
        attachment=attachment,
        fallback=fallback,
    )


def _longest_list(digest: Digest) -> int:
    """The most papers (or talks and courses) of one list a shortened rendering's limit applies
    to: at that limit nothing is cut."""
    groups: dict[int, int] = {}
    for entry in digest.emerging:
        groups[entry.group or 0] = groups.get(entry.group or 0, 0) + 1
    lists = [len(s.papers) for s in digest.sections] + [*groups.values()]
    return max([*lists, len(digest.updated), len(digest.resources), len(digest.unconfirmed)])


def _glossary_of(translator: Translator | None) -> Glossary | None:
    """The translator's glossary (the operator's `glossary_file`), which also gives a reader's
    Chinese or Arabic keywords their English; None: the shipped one."""
    return getattr(translator, "glossary", None)


@dataclass(frozen=True)
class Preview:
    """A reader's email as HTML and, when their zh/ar edition fell back to English, the
    operator's reason (the same line `send` logs), so a preview never leaves it unexplained."""

    html: str
    reason: str | None = None


def preview(digest: Digest, reader: Reader | None = None, *, translator: Translator | None = None) -> Preview:
    """What a reader would receive (the whole digest in English without a reader)."""
    if reader is None:
        return Preview(render_edition(digest, digest_stage.ENGLISH).html)
    personal = models_used(digest_stage.filter_for_reader(digest, reader, glossary=_glossary_of(translator)))
    made = _EditionMaker(translator).make(personal, reader.language)
    return Preview(render_edition(personal, made.edition).html, made.reason)


def preview_html(
    digest: Digest, reader: Reader | None = None, *, translator: Translator | None = None
) -> str:
    """The HTML a reader would receive (the whole digest in English without a reader)."""
    return preview(digest, reader, translator=translator).html


# ---------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    """What happened for one reader in this run; `status` is sent, failed, unconfirmed (the
    message was handed over, the server's answer lost: it may have arrived, and is not sent
    again without --resend), skipped (see `skip_reason`: already sent, unconfirmed earlier, or
    another live process is sending it), held (the stored week lacks what their edition needs)
    or dry-run. `error`, `server_down` and `note` are for the operator: `server_down` says the
    SMTP server itself failed (`SERVER_FAILED`) or this reader was not tried because it had
    (`NOT_TRIED`), `note` anything else about the edition (a fallback to English, a skip).
    `recorded` is False when the ledger row was not written: this run's hold on the reader
    expired during the SMTP exchange and another run took the reader over, whose row is kept,
    or the store could not be written (`unrecorded_reason` then says so)."""

    reader: str
    week: str
    status: str
    message_id: str
    language: str = "en"
    subject: str = ""
    papers: int | None = 0  # None: unknown (only the week's Markdown is kept)
    attempts: int = 0
    error: str | None = None
    translated_by: str | None = None
    note: str | None = None
    server_down: str | None = None
    recorded: bool = True
    fallback: str | None = None  # why a zh/ar reader's edition is in English (`status_text`)
    skip_reason: str | None = None  # for `skipped`: held, already-sent or unconfirmed
    unrecorded_reason: str | None = None  # why the row was not written, when not `NOT_RECORDED`
    store_down: str | None = None  # the store failed before this reader was mailed: its problem

    @property
    def ok(self) -> bool:
        """The reader has the week, or was meant not to get it: not failed, unconfirmed, held
        back, or left to another run that may yet fail (`pending`)."""
        return self.status not in ("failed", "held", UNCONFIRMED_STATUS) and not self.pending

    @property
    def pending(self) -> bool:
        """Skipped because another live run is sending to the reader: this run did not mail
        them, and nothing here says that run will succeed."""
        return self.status == "skipped" and self.skip_reason == "held"

    @property
    def status_text(self) -> str:
        return status_text(self.status, self.fallback)

    @property
    def detail(self) -> str:
        """One line for a table: the error, the server's failure, the note and a ledger row left
        to another run, else the translation model."""
        parts = [p for p in (self.error, self.server_down, self.note) if p]
        if not self.recorded:
            parts.append(self.unrecorded_reason or NOT_RECORDED)
        if parts:
            return "; ".join(parts)
        return f"translated by {self.translated_by}" if self.translated_by else ""


def delivery_report(results: Sequence[DeliveryResult]) -> str:
    """Who was sent what, as a Markdown table (for the run report or a Prefect artifact).
    Results never hold the password: every error text was scrubbed when it was made."""
    if not results:
        return "No readers configured: nothing was mailed.\n"
    lines = [
        "| Reader | Status | Edition | Papers | Attempts | Message-ID | Detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = [
            r.reader, r.status_text, r.language, papers_text(r.status, r.papers), str(r.attempts),
            r.message_id, r.detail,
        ]  # fmt: skip
        lines.append("| " + " | ".join(digest_stage.md_text(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


class SendFailed(DeliveryError):
    """A message that could not be sent to one reader, after `attempts` tries; `reason` is the
    error text without the reader (password scrubbed)."""

    def __init__(self, reader: str, reason: str, *, attempts: int) -> None:
        self.attempts = attempts
        self.reason = reason
        super().__init__(reader, reason)


class ServerUnavailable(SendFailed):
    """The session itself failed (connecting, TLS, login, the sender refused, the server
    stopped answering): it would fail for every reader. `transient`: a failure another try
    may not meet (no connection, a 4xx reply), not a refusal of the settings."""

    def __init__(self, reader: str, reason: str, *, attempts: int, transient: bool = False) -> None:
        self.transient = transient
        super().__init__(reader, reason, attempts=attempts)


class MaybeDelivered(ServerUnavailable):
    """The message was handed over (DATA and its body sent) but the server's answer never came
    (a timeout, a dropped connection): it may have been delivered, so it is not tried again.
    A server that stops answering mid-exchange would do the same to every reader."""


class _SessionFailed(Exception):
    """Raised by `send_message` for a failure that does not depend on the message or the
    recipient: connecting, securing, logging in, or the sender (MAIL FROM) refused."""

    def __init__(self, cause: smtplib.SMTPException | OSError) -> None:
        self.cause = cause
        super().__init__(str(cause))


class _AnswerLost(Exception):
    """Raised by `send_message` when the connection failed after the message body was sent."""

    def __init__(self, cause: smtplib.SMTPException | OSError) -> None:
        self.cause = cause
        super().__init__(str(cause))


class _TrackedSMTP(smtplib.SMTP):
    """Notes when the message itself may have reached the server (`body_sent`): the body
    written after the server's 354 go-ahead to DATA (354 answers nothing else), from the moment
    its write begins until it fails. From then on, a lost answer does not mean the message was
    not delivered."""

    body_sent = False
    _go_ahead = False
    # called once the body is about to be written, before its first byte (the ledger records
    # the handover then, so a process ended at once still leaves it known)
    on_body: Callable[[], None] | None = None

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()
        self._go_ahead = code == 354
        return code, text

    def send(self, s: Buffer | str) -> None:
        if not self._go_ahead:
            super().send(s)
            return
        # Marked before the write: a stop (Ctrl-C, SIGTERM) can land the moment the write
        # returns, when the server may already have the whole message.
        if self.on_body is not None:
            self.on_body()  # a failure here stops the send before any of the body went out
        self.body_sent = True
        try:
            super().send(s)
        except OSError:  # the body did not all go out: the server cannot have taken it
            self.body_sent = False
            raise


class _TrackedSMTPSSL(_TrackedSMTP, smtplib.SMTP_SSL):
    pass


# How far a message had got when the exchange was stopped from outside (Ctrl-C, SIGTERM, a
# cancelled Prefect run): noted on the exception itself, which must go on unchanged.
_STOPPED_AT = "_dltheory_digest_smtp_stage"
_HANDED_OVER = "handed-over"  # DATA and the body sent, the server's answer not yet read
_ACCEPTED = "accepted"  # the server answered 250 to the message; only the goodbye was cut


def _note(exc: BaseException, name: str, value: object) -> None:
    with contextlib.suppress(AttributeError):  # a type without a __dict__: say less, never fail
        setattr(exc, name, value)


def _stage_of(exc: BaseException) -> str | None:
    stage = getattr(exc, _STOPPED_AT, None)
    return stage if isinstance(stage, str) else None


def _stop_reason(exc: BaseException) -> str:
    """What stopped the exchange, in words: Ctrl-C, a signal (Prefect's cancellation and
    `serve`'s shutdown send SIGTERM), or an unexpected error."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    number = getattr(exc, "signal", None)
    if isinstance(number, int):
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"the run was stopped ({name}: cancelled, or its process was told to end)"
    if isinstance(exc, SystemExit):
        return "the process was told to exit"
    if not isinstance(exc, Exception):  # asyncio's CancelledError, Prefect's other signals
        return f"the run was cancelled ({type(exc).__name__})"
    text = str(exc)
    return f"stopped by an unexpected error: {type(exc).__name__}" + (f": {text}" if text else "")


def _ssl_context(smtp: SmtpSettings) -> ssl.SSLContext:
    return _ssl_context_with(smtp.ca_file)


def _ssl_context_with(ca_file: str | None) -> ssl.SSLContext:
    """The system's trusted CAs, and those of `ca_file` (PEM) when set."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:  # no retry can help: the setting is wrong
            raise ConfigError(
                f"smtp_ca_file: cannot read {ca_file} as PEM certificates: {exc}", field="smtp_ca_file"
            ) from None
    return context


def _sender_level(exc: BaseException) -> bool:
    """A refusal of the sender or the session rather than of one recipient: MAIL FROM refused
    (530 STARTTLS or authentication required, a sender the server will not relay for), or 530
    (access denied) given at RCPT, which some servers defer their MAIL FROM check to."""
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return True
    return isinstance(exc, smtplib.SMTPRecipientsRefused) and _smtp_code(exc) == 530


def _connect(smtp: SmtpSettings) -> _TrackedSMTP:
    """A session ready for MAIL FROM: connected (plain, STARTTLS or SSL), logged in when a user
    is set; its failures are `_SessionFailed`."""
    client: _TrackedSMTP
    try:
        if smtp.security == "ssl":
            client = _TrackedSMTPSSL(smtp.host, smtp.port, timeout=smtp.timeout, context=_ssl_context(smtp))
        else:
            client = _TrackedSMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    except (smtplib.SMTPException, OSError) as exc:
        raise _SessionFailed(exc) from exc
    try:
        if smtp.security == "starttls":
            client.starttls(context=_ssl_context(smtp))
        if smtp.user:
            password = smtp.password.get_secret_value() if smtp.password else ""
            client.login(smtp.user, password)
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        raise _SessionFailed(exc) from exc
    except BaseException:
        client.close()
        raise
    return client


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass  # what was sent is settled: a lost goodbye changes nothing
    finally:
        client.close()


def send_message(
    smtp: SmtpSettings,
    message: EmailMessage,
    *,
    recipient: str,
    on_body: Callable[[], None] | None = None,
) -> None:
    """One SMTP session: connect (plain, STARTTLS or SSL), log in when a user is set, send, quit.

    A failure that does not depend on the message or the recipient (connecting, securing,
    logging in, the sender refused) is raised as `_SessionFailed`; a timeout or a dropped
    connection after the message body was sent as `_AnswerLost` (both wrap the original
    error). Once the server has accepted the message, a failed QUIT is ignored. Stopped from
    outside (Ctrl-C, SIGTERM, a cancelled run), the exception goes on unchanged, noted with how
    far the message had got (`_stage_of`). `on_body` is called just before the message body
    is written (after the server's go-ahead to DATA), once per message."""
    client = _connect(smtp)
    client.on_body = on_body
    try:
        sender = parseaddr(smtp.mail_from)[1] or smtp.mail_from
        client.send_message(message, from_addr=sender, to_addrs=[recipient])
    except (_HoldLost, _LedgerUnavailable):
        client.close()  # before the body: the server drops the unfinished message
        raise
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        if client.body_sent and not isinstance(exc, smtplib.SMTPResponseException):
            raise _AnswerLost(exc) from exc  # no answer to the message, which may have arrived
        if _sender_level(exc):
            raise _SessionFailed(exc) from exc
        raise
    except BaseException as exc:
        # stopped from outside (Ctrl-C, SIGTERM, a cancelled run): the same rule as a lost
        # answer, since a body handed over may have been delivered; the stop itself goes on
        client.close()
        if client.body_sent:
            _note(exc, _STOPPED_AT, _HANDED_OVER)
        raise
    try:
        _quit(client)
    except BaseException as exc:  # the message was accepted (250): only the goodbye was cut
        _note(exc, _STOPPED_AT, _ACCEPTED)
        raise


def check_server(smtp: SmtpSettings) -> None:
    """Connect, log in and offer the sender (MAIL FROM, then RSET): what every delivery needs,
    checked without sending anything, so a wrong setting is found before a week's fetch.
    Raises `ServerUnavailable` with the reason and the setting to change."""
    try:
        client = _connect(smtp)
        try:
            sender = parseaddr(smtp.mail_from)[1] or smtp.mail_from
            client.ehlo_or_helo_if_needed()
            code, text = client.mail(sender)
            if code != 250:
                raise _SessionFailed(smtplib.SMTPSenderRefused(code, text, sender))
            client.rset()
        except (smtplib.SMTPException, OSError) as exc:
            client.close()
            raise _SessionFailed(exc) from exc
        except BaseException:
            client.close()
            raise
        _quit(client)
    except _SessionFailed as exc:
        raise ServerUnavailable(
            smtp.server, _reason(exc, smtp), attempts=1, transient=_is_transient(exc)
        ) from None


def _smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def _is_transient(exc: BaseException) -> bool:
    """4xx replies and network trouble are worth another try; 5xx replies are final."""
    if isinstance(exc, _AnswerLost):
        return False  # the message may have arrived: another try could deliver a second copy
    if isinstance(exc, _SessionFailed):
        exc = exc.cause
    if isinstance(
        exc, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError
    ):
        return False
    if _tls_mismatch(exc):
        return False  # the settings' TLS and the server's disagree: every try would
    code = _smtp_code(exc)
    if code is not None:
        return 400 <= code < 500
    return isinstance(
        exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError | socket.timeout
    )


def _tls_mismatch(exc: BaseException) -> bool:
    """A TLS handshake that failed on the protocol itself (TLS spoken to a plain-text port, or
    the other way round), not on a connection cut short, which another try may get through."""
    return isinstance(exc, ssl.SSLError) and not isinstance(
        exc, ssl.SSLEOFError | ssl.SSLZeroReturnError | ssl.SSLSyscallError | ssl.SSLCertVerificationError
    )


def _timed_out(exc: BaseException) -> bool:
    """A timeout, also as smtplib reports one while reading a reply: SMTPServerDisconnected
    ("Connection unexpectedly closed: timed out") raised while handling the TimeoutError."""
    if isinstance(exc, _SessionFailed | _AnswerLost):
        exc = exc.cause
    seen: BaseException | None = exc
    for _ in range(8):  # a short chain; never follow a cycle forever
        if seen is None:
            break
        if isinstance(seen, TimeoutError | socket.timeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _advice(exc: BaseException, smtp: SmtpSettings) -> str | None:
    """The setting to change for a refusal that a setting causes, or None."""
    if isinstance(exc, _SessionFailed | _AnswerLost):
        exc = exc.cause
    code = _smtp_code(exc)
    text = str(getattr(exc, "smtp_error", "") or exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "to trust the server's certificate, set `smtp_ca_file` to the CA that signed it"
    if _tls_mismatch(exc):
        if smtp.security == "ssl":
            return (
                "the server does not speak TLS from the start: set `smtp_security: starttls` (port "
                "587) or `none`, or the port of its TLS service (465)"
            )
        return f"the TLS handshake failed: check `smtp_security` ({smtp.security}) and `smtp_port`"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "check `smtp_user` and `smtp_password`"
    if isinstance(exc, smtplib.SMTPNotSupportedError) and "STARTTLS" in text.upper():
        return (
            "the server offers no STARTTLS: set `smtp_security: none`, or `ssl` when it speaks TLS "
            "from the start (port 465)"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError) and "AUTH" in text.upper():
        if smtp.security == "none":  # most submission servers offer AUTH only over TLS
            return (
                "the server offers no login on a plain connection: set `smtp_security: starttls` "
                "(port 587), or `ssl` (port 465)"
            )
        return "the server offers no login: leave `smtp_user` and `smtp_password` unset, or check `smtp_port`"
    lost = isinstance(exc, smtplib.SMTPServerDisconnected) or _timed_out(exc)
    if smtp.port == 465 and smtp.security != "ssl" and lost:
        # a plain-text client waits for a greeting that a TLS server never sends
        return "port 465 speaks TLS from the start: set `smtp_security: ssl`"
    if code == 530 or (code is not None and code >= 500 and "STARTTLS" in text.upper()):
        if "TLS" in text.upper() and smtp.security == "none":
            return (
                "the server requires TLS first: set `smtp_security: starttls` (or `ssl` for a "
                "server on port 465)"
            )
        if not smtp.user:
            return "the server requires a login: set `smtp_user` and `smtp_password`"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the server refuses the sender {exc.sender!r}: check `mail_from` (and `smtp_user`)"
    return None


def _reason(exc: BaseException, smtp: SmtpSettings) -> str:
    """The failure as one line (password scrubbed), with the setting to change when one would help."""
    advice = _advice(exc, smtp)
    described = _describe(exc, smtp.server)
    return smtp.scrub(f"{described}; {advice}" if advice else described)


def _describe(exc: BaseException, server: str | None = None) -> str:
    """The error as one line; a failure that is not a reply of the server names the server."""
    if isinstance(exc, _SessionFailed | _AnswerLost):
        exc = exc.cause
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                 for code, msg in exc.recipients.values()]  # fmt: skip
        return "recipient refused: " + "; ".join(parts)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"{type(exc).__name__}: {exc.smtp_code} {text}"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"{text} (server {server})" if server else text


def send_with_retries(
    smtp: SmtpSettings,
    message: EmailMessage,
    *,
    recipient: str,
    retries: int = 3,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    sender: Callable[..., None] | None = None,
) -> int:
    """Send, retrying transient failures `retries` times with doubling waits; returns the attempts made.

    Raises `SendFailed` (a `DeliveryError`; password scrubbed) when the message could not be sent,
    `ServerUnavailable` (a `SendFailed`) when the last failure was the session's, not the
    message's, or the server stopped answering; `MaybeDelivered` (a `ServerUnavailable`), at
    once, when the answer to a message already handed over was lost: retrying could deliver
    it twice. Failures before the message body was sent are retried.
    """
    send = sender or send_message
    most = retries + 1
    attempt = 0
    while True:
        attempt += 1
        try:
            send(smtp, message, recipient=recipient)
            return attempt
        except (smtplib.SMTPException, OSError, _SessionFailed, _AnswerLost) as exc:
            reason = _reason(exc, smtp)
            if isinstance(exc, _AnswerLost):
                log.warning(
                    "send to %s: attempt %d of %d: the message was sent but the server's answer was "
                    "lost (%s); not retried, it may have been delivered",
                    recipient, attempt, most, reason,
                )  # fmt: skip
                raise MaybeDelivered(recipient, reason, attempts=attempt) from None
            # every failed attempt is logged, the last one too, so the log counts what the result says
            if attempt >= most or not _is_transient(exc):
                why = "giving up" if attempt >= most else "not retried (a permanent error)"
                log.warning(
                    "send to %s: attempt %d of %d failed: %s; %s", recipient, attempt, most, reason, why
                )
                # a server that stops answering would keep every reader waiting as long
                server_level = isinstance(exc, _SessionFailed) or _timed_out(exc)
                failure = ServerUnavailable if server_level else SendFailed
                raise failure(recipient, reason, attempts=attempt) from None
            wait = backoff * 2 ** (attempt - 1)
            log.warning(
                "send to %s: attempt %d of %d failed: %s; retrying in %.0f s",
                recipient,
                attempt,
                most,
                reason,
                wait,
            )
            sleep(wait)


def deliver(
    store: Store | None,
    *,
    week: str,
    digest: Digest,
    readers: Sequence[Reader],
    smtp: SmtpSettings,
    resend: bool = False,
    dry_run: bool = False,
    translator: Translator | None = None,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    backoff: float = 2.0,
    demo: bool = False,
    zone: ZoneInfo | None = None,
) -> list[DeliveryResult]:
    """Send each reader their edition of `week`'s digest once; see the module docstring.

    `zone`: the one times are shown in (when the reader was sent it before); default the digest's.

    `store` may be None only for a dry run (nothing is read from or written to a ledger).
    `demo`: the digest was built from the bundled snapshot (the `demo` command); each message
    says so in its subject and first line, so it never passes for the real week's.
    """
    maker = _EditionMaker(translator)

    def render(reader: Reader) -> Rendered:
        personal = models_used(
            digest_stage.filter_for_reader(digest, reader, glossary=_glossary_of(translator))
        )
        made = maker.make(personal, reader.language)
        if made.reason:
            log.warning("digest %s for %s: %s", week, reader.email, made.reason)
        return render_edition(
            personal, made.edition, operator_note=made.reason, demo=demo, fallback=made.fallback
        )

    return _deliver_all(
        store, week=week, readers=readers, smtp=smtp, render=render, resend=resend,
        dry_run=dry_run, retries=retries, sleep=sleep, backoff=backoff, zone=zone or _zone_of(digest),
    )  # fmt: skip


def models_used(digest: Digest) -> Digest:
    """`digest` with only the translation models a text of it came through: one whose every
    output was discarded (or whose texts this reader's filters left out) is not credited in the
    footer."""
    credited, languages = _translations_in(digest)

    def used(name: str, version: str) -> bool:
        source = _SOURCE_LANGUAGE.search(name)
        return f"{name} {version}".strip() in credited or (source is not None and source[1] in languages)

    kept = tuple(m for m in digest.models if used(*m))
    return digest if kept == digest.models else dataclasses.replace(digest, models=kept)


_SOURCE_LANGUAGE = re.compile(r"(\w+)→en$")  # "argos zh→en" -> zh


def _translations_in(value: Any) -> tuple[set[str], set[str]]:
    """Every model named in a `translated_by` under `value`, and the languages of titles shown
    in a translation (`DigestPaper.english_title`, which does not name its model)."""
    credited: set[str] = set()
    languages: set[str] = set()
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, tuple | list):
            pending.extend(current)
        elif dataclasses.is_dataclass(current) and not isinstance(current, type):
            if isinstance(current, DigestPaper) and current.english_title and current.original_lang:
                languages.add(current.original_lang)
            for each in dataclasses.fields(current):
                item = getattr(current, each.name)
                if each.name == "translated_by" and isinstance(item, str):
                    credited.update(part.strip() for part in item.split(","))
                elif isinstance(item, tuple | list) or dataclasses.is_dataclass(item):
                    pending.append(item)
    return credited, languages


def has_filters(reader: Reader) -> bool:
    """Whether the reader's edition differs from the shared one: directions, keywords and a minimum
    relevance leave papers out; followed authors bring theirs in and mark them."""
    return any(
        (reader.include_directions, reader.exclude_directions, reader.keywords, reader.negative_keywords,
         reader.min_relevance is not None, reader.authors)
    )  # fmt: skip


def needs_stored_digest(reader: Reader) -> bool:
    """The reader's edition needs the stored digest (a translation or a filter), not just its Markdown."""
    return reader.language != "en" or has_filters(reader)


def deliver_markdown(
    store: Store | None,
    *,
    week: str,
    markdown: str,
    readers: Sequence[Reader],
    smtp: SmtpSettings,
    resend: bool = False,
    dry_run: bool = False,
    force: bool = False,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    backoff: float = 2.0,
    zone: ZoneInfo | None = None,
    source_names: Mapping[str, str] | None = None,
    demo: bool = False,
) -> list[DeliveryResult]:
    """Send an already rendered digest (only its Markdown was kept) as it is; `zone` is the
    one times are shown in (UTC without); `source_names` (id -> name, from sources.yaml) names
    the sources the file names by id; `demo`: the file is the `demo` command's, so its subject
    is labelled as the demo's mail is.

    No per-reader filter or translation is possible, so readers who need one
    (`needs_stored_digest`) are held (status `held`, nothing sent or recorded) unless `force`,
    which sends them the whole English digest and says so in the result."""
    # the operator's file: its run notes and source errors are not for readers
    markdown = digest_stage.reader_copy(markdown, source_names)
    title = next(
        (line[2:].strip() for line in markdown.splitlines() if line.startswith("# ")), f"Digest {week}"
    )
    html = digest_stage.render_html(markdown, title=title)
    # only the Markdown was kept, so it cannot be shortened: an oversized one is also attached
    attachment = (f"{week}.md", markdown) if html_part_size(html) > HTML_BUDGET else None

    def render(reader: Reader) -> Rendered:
        limited = needs_stored_digest(reader)
        held = None
        if limited and not force:
            name = language_name(reader.language)
            article = "an" if name[:1] in "AEIOU" else "a"
            needs = [f"{article} {name} edition"] if reader.language != "en" else []
            needs += ["filters"] if has_filters(reader) else []
            verb = "needs" if len(needs) == 1 and reader.language != "en" else "need"
            held = (
                f"{' and '.join(needs)} {verb} the stored digest, and only the Markdown of {week} is kept; "
                f"rebuild it (`dltheory-digest run --week {week}`) or pass --force to send the "
                "unfiltered English digest"
            )
        # worded for a dry run too, which sends nothing
        note = "the stored digest has only its Markdown: unfiltered, in English" if limited else None
        fallback = "only the week's Markdown is kept" if limited and reader.language != "en" else None
        return Rendered(
            subject=clean_subject(
                f"{digest_stage.ENGLISH.labels['demo_subject']} {title}" if demo else title
            ),
            markdown=markdown,
            html=html,
            language="en",
            translated_by=None,
            note=note,
            papers=None,  # the Markdown alone does not say, and 0 would read as an empty week
            attachment=attachment,
            held=held,
            fallback=fallback,
        )

    return _deliver_all(
        store, week=week, readers=readers, smtp=smtp, render=render, resend=resend,
        dry_run=dry_run, retries=retries, sleep=sleep, backoff=backoff, zone=zone,
    )  # fmt: skip


SkipReason = Literal["held", "already-sent", "unconfirmed"]


def _skip_note(previous: Delivery, reason: SkipReason, zone: ZoneInfo | None = None) -> str:
    """Why a reader was skipped, from the reason the ledger gave (`Reservation.reason`), not
    from the row: a row that kept changing under `reserve` may read `failed` by now, and one
    a dead process left `resending` was never delivered at its `updated_at`."""
    when = local_time(previous.updated_at, zone)
    if reason == "held":
        holder = previous.holder_process if previous.status in ("sending", "resending") else None
        by = f"process {holder.pid} on {holder.host}, " if holder and holder.pid else ""
        return f"being sent by another run ({by}since {when})"
    if reason == "unconfirmed":
        return (
            # neutral: the answer was lost, or the store could not record it (the row cannot tell)
            f"sent {when}, but the server's answer was never recorded, so it may have arrived: check the "
            f"server's log for {previous.message_id} (use --resend to send it again, same Message-ID)"
        )
    return f"already sent {when} (use --resend to send again)"


def local_time(when: dt.datetime, zone: ZoneInfo | None = None) -> str:
    """A moment in the configured zone, named with its offset: "2026-11-23 10:00
    Pacific/Kiritimati (UTC+14:00)"; in UTC without a zone (or a naive time, which the store
    writes in UTC)."""
    when = as_utc(when)
    if zone is None or zone.key in ("UTC", "Etc/UTC"):
        return f"{when:%Y-%m-%d %H:%M} UTC"
    local = when.astimezone(zone)
    offset = f"{local:%z}"
    return f"{local:%Y-%m-%d %H:%M} {zone.key} (UTC{offset[:3]}:{offset[3:]})"


def _zone_of(digest: Digest) -> ZoneInfo | None:
    try:
        return ZoneInfo(digest.timezone) if digest.timezone else None
    except (ZoneInfoNotFoundError, ValueError):  # a digest stored by hand, or an odd zone name
        return None


def _deliver_all(
    store: Store | None,
    *,
    week: str,
    readers: Sequence[Reader],
    smtp: SmtpSettings,
    render: Callable[[Reader], Rendered],
    resend: bool,
    dry_run: bool,
    retries: int,
    sleep: Callable[[float], None],
    backoff: float,
    zone: ZoneInfo | None = None,
) -> list[DeliveryResult]:
    from sqlalchemy.exc import SQLAlchemyError

    from dltheory_digest.store import deliveries as ledger
    from dltheory_digest.store.db import store_problem

    if store is None and not dry_run:
        # caught before any reader: without the ledger a rerun would mail everyone again
        raise ValueError("a delivery needs the store (its ledger); only a dry run goes without one")
    distinct: dict[str, Reader] = {}
    for reader in readers:  # the same address twice in the configuration gets one mail
        distinct.setdefault(ledger.reader_key(reader.email), reader)
    results: list[DeliveryResult] = []
    server_down: str | None = None  # the session failed: the remaining readers are not tried

    def before_sending(reader: Reader) -> DeliveryResult | tuple[DeliveryResult, Rendered, Reservation]:
        """The reader's result when the ledger or their edition says not to mail them now, else
        what to send them and the ledger row reserved for it."""
        previous = ledger.get_delivery(store, week, reader.email) if store is not None else None
        if previous is not None and store is not None and not dry_run:
            # a process that died after handing the message over: recorded `unconfirmed` now
            previous = ledger.settle_abandoned(store, previous)
        skip = _skip_reason(previous, resend)
        if previous is not None and skip is not None:
            return _skipped(week, reader, previous, skip, zone)
        rendered = render(reader)
        base = DeliveryResult(
            reader=reader.email,
            week=week,
            status="dry-run",
            message_id=_next_message_id(week, reader.email, smtp.domain, previous),
            language=rendered.language,
            subject=rendered.subject,
            papers=rendered.papers,
            translated_by=rendered.translated_by,
            note=rendered.note,
            fallback=rendered.fallback,
        )
        if rendered.held:
            log.warning("digest %s not sent to %s: %s", week, reader.email, rendered.held)
            return _replace(base, status="held", note=rendered.held)
        if dry_run:
            return base
        assert store is not None  # checked on entry: only a dry run goes without
        reservation = ledger.reserve(
            store, week=week, reader=reader.email, message_id=base.message_id, resend=resend
        )
        if not reservation.granted:  # another run got there between our look and the reservation
            held_by = reservation.previous
            why: SkipReason = "held"
            if reservation.reason in ("already-sent", "unconfirmed"):
                why = reservation.reason
            if held_by is None:
                return _replace(base, status="skipped", note="being sent by another run", skip_reason="held")
            return _skipped(week, reader, held_by, why, zone)
        held = reservation.previous
        base = _replace(
            base, message_id=_next_message_id(week, reader.email, smtp.domain, held, first=base.message_id)
        )
        return base, rendered, reservation

    pending = list(distinct.values())
    for index, reader in enumerate(pending):
        try:
            ready = before_sending(reader)
        except SQLAlchemyError as exc:
            # as when the server fails: this reader and the rest are not tried, and with the
            # store failing nothing more is recorded; the results so far still tell who was mailed
            problem = store_problem(exc)
            log.error(
                "digest %s: the store failed (%s); %d reader(s) not mailed: %s",
                week, problem, len(pending) - index, ", ".join(r.email for r in pending[index:]),
            )  # fmt: skip
            results.extend(_store_failed(week, r, problem) for r in pending[index:])
            break
        if isinstance(ready, DeliveryResult):
            results.append(ready)
            continue
        base, rendered, reservation = ready
        held = reservation.previous
        # a resend threads with the first message the reader got
        earlier_id = _first_of(held.message_id) if held is not None and held.delivered else None
        assert store is not None  # a reservation was granted
        result, server_failure = _send_one(
            store, smtp, reservation, reader, base, rendered, references=earlier_id,
            server_down=server_down, retries=retries, sleep=sleep, backoff=backoff,
        )  # fmt: skip
        results.append(result)
        if server_down is None and server_failure is not None:
            server_down = server_failure
            rest = len(pending) - index - 1
            if rest:
                log.error(
                    "%s: the remaining %d reader(s) are recorded as failed without being tried",
                    server_down,
                    rest,
                )
    return results


STORE_FAILED = (
    "not mailed: the store could not be read or written ({problem}); nothing was sent to this "
    "reader or recorded"
)


def _store_failed(week: str, reader: Reader, problem: str) -> DeliveryResult:
    return DeliveryResult(
        reader=reader.email,
        week=week,
        status="failed",
        message_id="",
        language=reader.language,
        papers=None,  # no edition was made for them
        error=STORE_FAILED.format(problem=problem),
        store_down=problem,
    )


SERVER_FAILED = "the SMTP server itself failed"
NOT_TRIED = "not tried: the SMTP server failed for an earlier reader of this run"
UNCONFIRMED_STATUS = "unconfirmed"
HOLD_LOST = (
    "this run's hold on the reader expired before the message was handed to the server and "
    "another run took the reader over, which mails them"
)


class _HoldLost(Exception):
    """Raised just before a message body is written when the ledger row is no longer this
    run's (`ledger.mark_handed_over` refused): the body is not sent."""


class _LedgerUnavailable(Exception):
    """Raised just before a message body is written when the store could not record the
    handover (locked past its busy timeout, e.g. by `store prune`): the body is not sent, as
    the ledger could not then tell a later run that the reader may have it."""


LEDGER_UNAVAILABLE = (
    "not sent: the store could not record that the message was being handed to the server "
    "({problem}); nothing went out, so the next run tries this reader again"
)
UNRECORDED_STORE = (
    "not recorded: the store could not be written ({problem}); the row stays held by this run, "
    "and the next run settles it"
)


NOT_RECORDED = (
    "not recorded: this run's hold on the reader expired during the SMTP exchange and another "
    "run took the reader over; the ledger keeps that run's record"
)


def _skip_reason(previous: Delivery | None, resend: bool) -> SkipReason | None:
    """Why the ledger row alone says the reader is not mailed now, or None."""
    if previous is None:
        return None
    if previous.held():
        return "held"
    if previous.delivered and not resend:
        return "already-sent"
    if previous.unconfirmed and not resend:
        return "unconfirmed"
    return None


def _unconfirmed_error(reason: str, week: str, reader: str, message_id: str) -> str:
    """What the operator reads for a message whose answer was lost: what happened, what to
    check, and the command for when it did not arrive."""
    return (
        f"{reason}; the message was handed to the server before its answer was lost, so it may "
        f"have been delivered: it is not sent again without --resend. Check the server's log "
        f"(or the reader's mailbox) for {message_id}; if it is not there, run `dltheory-digest "
        f"send --week {week} --resend --to {reader}` (same Message-ID, so a copy that did "
        "arrive is not shown twice)"
    )


def _skipped(
    week: str, reader: Reader, previous: Delivery, reason: SkipReason, zone: ZoneInfo | None = None
) -> DeliveryResult:
    return DeliveryResult(
        reader=reader.email,
        week=week,
        status="skipped",
        message_id=previous.message_id,
        language=previous.edition,
        papers=None,  # what they were sent is not recorded; this run sent them nothing
        attempts=0,
        note=_skip_note(previous, reason, zone),
        skip_reason=reason,
    )


def _next_message_id(
    week: str, reader: str, domain: str, previous: Delivery | None, *, first: str | None = None
) -> str:
    """A first delivery gets a new id (`first`, when one was already drawn for it) and keeps it on
    every try, in this run and the next (a copy that arrived despite an error is then dropped by
    the client); each resend gets the next id in the sequence, as clients drop an id they have seen."""
    if previous is None:
        return first or message_id_for(week, reader, domain, token=secrets.token_hex(4))
    if not previous.delivered:
        return str(previous.message_id)
    found = _SEQUENCE.match(previous.message_id)
    if found is None:  # not one of ours: start a sequence of our own
        return message_id_for(week, reader, domain, 1, token=secrets.token_hex(4))
    return f"{found.group(1)}.{_sequence_of(previous.message_id) + 1}@{domain}>"


def _send_one(
    store: Store,
    smtp: SmtpSettings,
    reservation: Reservation,
    reader: Reader,
    base: DeliveryResult,
    rendered: Rendered,
    *,
    references: str | None,
    server_down: str | None,
    retries: int,
    sleep: Callable[[float], None],
    backoff: float,
) -> tuple[DeliveryResult, str | None]:
    """Send one reserved reader's message (or, when the server is down, record it unsent) and
    write the outcome to the ledger; with the result, how the server itself failed (None
    when it did not), for the readers after this one."""
    from sqlalchemy.exc import SQLAlchemyError

    from dltheory_digest.store import deliveries as ledger
    from dltheory_digest.store.db import store_problem

    message = build_message(
        markdown=rendered.markdown,
        html=rendered.html,
        subject=rendered.subject,
        sender=smtp.mail_from,
        to=base.reader,
        to_name=reader.name,
        message_id=base.message_id,
        references=references,
        list_id=list_id_for(smtp.domain),
        list_unsubscribe=smtp.list_unsubscribe,
        language=rendered.language,
        attachment=rendered.attachment,
    )
    sent = False
    unconfirmed = False
    failure: str | None = None  # how the server itself failed, for the readers after this one
    attempts = 0
    error: str | None = None
    down: str | None = None
    tried = 0  # attempts begun, for a run stopped in the middle of them
    lost = False  # another run took the reader over before the message went out
    unrecorded: str | None = None  # why the ledger row could not be written
    stopping = False  # the command or run is being stopped: no waiting for the store

    def count_attempt(smtp: SmtpSettings, message: EmailMessage, *, recipient: str) -> None:
        nonlocal tried
        tried += 1
        attempt = tried

        def handing_over() -> None:
            # in the ledger before the body goes out: a process ended at once (run's Ctrl-C,
            # SIGKILL) then leaves a row the next run settles `unconfirmed`, not mails again
            try:
                marked = ledger.mark_handed_over(store, reservation, attempt)
            except SQLAlchemyError as exc:  # one reader's failure: the others are still mailed
                raise _LedgerUnavailable(store_problem(exc)) from exc
            if not marked:
                raise _HoldLost  # the other run mails the reader: this one must not as well

        send_message(smtp, message, recipient=recipient, on_body=handing_over)

    try:
        if server_down is not None:
            error, down = server_down, NOT_TRIED
        else:
            # registered, so a command that ends the process at once records the reader first
            with ledger.sending(store, reservation, rendered.language):
                attempts = send_with_retries(
                    smtp, message, recipient=base.reader, retries=retries, backoff=backoff, sleep=sleep,
                    sender=count_attempt,
                )  # fmt: skip
            sent = True
            log.info(
                "digest %s sent to %s (%s, %s papers)",
                base.week,
                base.reader,
                base.language,
                _count(base.papers),
            )
    except _HoldLost:
        attempts, lost = tried, True
        log.warning("digest %s not sent to %s: %s", base.week, base.reader, HOLD_LOST)
    except _LedgerUnavailable as exc:
        attempts, error = tried, LEDGER_UNAVAILABLE.format(problem=exc)
        log.error("digest %s to %s: %s", base.week, base.reader, error)
    except MaybeDelivered as exc:
        unconfirmed, attempts, down = True, exc.attempts, SERVER_FAILED
        failure = smtp.scrub(exc.reason)
        error = smtp.scrub(_unconfirmed_error(exc.reason, base.week, base.reader, base.message_id))
        log.error("digest %s to %s: unconfirmed: %s", base.week, base.reader, error)
    except SendFailed as exc:
        attempts, error = exc.attempts, smtp.scrub(exc.reason)
        if isinstance(exc, ServerUnavailable):
            down, failure = SERVER_FAILED, error
        log.error(
            "digest %s not delivered to %s after %d attempt(s): %s", base.week, base.reader, attempts, error
        )
    except BaseException as exc:  # never leave the row held by this run: record, then re-raise
        # Ctrl-C, SIGTERM, a cancelled run, or a bug: a message the server took (250) is sent;
        # one handed over whose answer the stop cut off may have been delivered, so it is
        # `unconfirmed` (not mailed again without --resend), as when the answer is lost
        stopping = True
        attempts, stage, why = tried, _stage_of(exc), _stop_reason(exc)
        if stage == _ACCEPTED:
            sent = True
            log.warning("digest %s sent to %s; then %s", base.week, base.reader, why)
        elif stage == _HANDED_OVER:
            unconfirmed = True
            reason = f"{why} while the server's answer to the message was awaited"
            error = smtp.scrub(_unconfirmed_error(reason, base.week, base.reader, base.message_id))
            log.error("digest %s to %s: unconfirmed: %s", base.week, base.reader, error)
        else:
            error = smtp.scrub(f"{why} before the message was handed to the server")
            log.error("digest %s not delivered to %s: %s", base.week, base.reader, error)
        raise
    finally:
        outcome = functools.partial(
            ledger.finish,
            store,
            reservation,
            week=base.week,
            reader=base.reader,
            message_id=base.message_id,
            sent=sent,
            attempts=attempts,
            error=error,
            edition=rendered.language,
            unconfirmed=unconfirmed,
        )

        def landed() -> Delivery | None:
            """The row, when it already holds this `sent` outcome: a write that raised had
            committed it (the connection dropped after COMMIT), so its retry matched nothing."""
            row = ledger.get_delivery(store, base.week, base.reader)
            ours = row is not None and (row.message_id, row.status) == (base.message_id, "sent")
            return row if ours else None

        # a message the server took: unrecorded, the next run could only call it unconfirmed
        waits = SENT_WRITE_WAITS if sent and not stopping else ()
        try:
            written = _write_retrying(
                outcome, waits, sleep, f"digest {base.week} sent to {base.reader}", landed=landed
            )
        except SQLAlchemyError as exc:
            # the row stays this run's hold (handed over or not), which a later run settles or
            # retakes from its dead holder: no reason to stop mailing the others
            written, unrecorded = None, UNRECORDED_STORE.format(problem=store_problem(exc))
            log.error("digest %s for %s: %s", base.week, base.reader, unrecorded)
        recorded = written is not None
        if not recorded and not lost and unrecorded is None:
            log.warning("digest %s for %s: %s", base.week, base.reader, NOT_RECORDED)
    if lost:  # nothing went out, and the row is the other run's
        note = f"not sent: {HOLD_LOST}"
        skipped = _replace(base, status="skipped", skip_reason="held", attempts=attempts, note=note)
        return _replace(skipped, recorded=recorded, unrecorded_reason=unrecorded), None
    status = "sent" if sent else UNCONFIRMED_STATUS if unconfirmed else "failed"
    result = _replace(
        base, status=status, attempts=attempts, error=error, server_down=down, recorded=recorded,
        unrecorded_reason=unrecorded,
    )  # fmt: skip
    return result, failure


# Waits before writing a `sent` outcome again when the store refused it (locked, restarting):
# the store's own connect retries cover a server that is down, not a lock or a dropped session.
SENT_WRITE_WAITS = (1.0, 2.0, 4.0)


def _write_retrying(
    write: Callable[[], Delivery | None],
    waits: Sequence[float],
    sleep: Callable[[float], None],
    what: str,
    *,
    landed: Callable[[], Delivery | None] = lambda: None,
) -> Delivery | None:
    """`write()`, tried again after each of `waits` while the store refuses it; the last
    refusal is raised. A retry that writes nothing (the row is no longer as reserved) may follow
    a refusal whose commit did land: `landed()` is then the row if it holds that write."""
    from sqlalchemy.exc import SQLAlchemyError

    from dltheory_digest.store.db import store_problem

    refused = False
    for wait in (*waits, None):
        try:
            written = write()
        except SQLAlchemyError as exc:
            if wait is None:
                raise
            log.warning("%s: not recorded yet (%s); trying again in %g s", what, store_problem(exc), wait)
            sleep(wait)
            refused = True
            continue
        return landed() if written is None and refused else written
    raise AssertionError("unreachable")  # pragma: no cover - the last write returns or raises


def _replace(result: DeliveryResult, **changes: Any) -> DeliveryResult:
    import dataclasses

    return dataclasses.replace(result, **changes)


def readers_for(settings: Settings, to: Sequence[str] = ()) -> list[Reader]:
    """The configured readers, or only those named in `to` (an address not configured gets the full
    English edition)."""
    if not to:
        return list(settings.readers)
    configured = {r.email.lower(): r for r in settings.readers}
    return [configured.get(address.lower()) or Reader(email=address) for address in to]
