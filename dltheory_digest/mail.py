"""The only SMTP code: build each reader's edition, send it once, and keep the delivery ledger.

Per reader: the digest is filtered (`digest.filter_for_reader`), translated for zh/ar
editions (titles stay in English beside the translation; without a model the edition
falls back to English and says so), rendered to Markdown + HTML, and sent as
`multipart/alternative`. The ledger makes a rerun of the same week send nothing unless
`resend` is asked for; a failed send is retried with back-off, recorded, and does not
stop the other readers. The password is a `SecretStr` and is scrubbed from every error
text this module produces, so it never reaches logs, results or artifacts.
"""

from __future__ import annotations

import hashlib
import json
import logging
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
from typing import Any, Literal, Protocol

from pydantic import SecretStr

from dltheory_digest import digest as digest_stage
from dltheory_digest.config import Reader, Settings
from dltheory_digest.errors import ConfigError, DeliveryError, TranslationUnavailable
from dltheory_digest.models import Digest

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

    def __post_init__(self) -> None:
        if self.security not in ("none", "starttls", "ssl"):
            raise ConfigError(f"smtp_security: expected none, starttls or ssl, got {self.security!r}")

    @classmethod
    def from_settings(cls, settings: Settings, *, block: str | None = None) -> SmtpSettings:
        """From `DLTHEORY_SMTP_*`/`DLTHEORY_MAIL_FROM` settings, overlaid by a Prefect Secret block when one
        is named (argument, `smtp_block` setting or `DLTHEORY_SMTP_BLOCK`)."""
        import os

        values: dict[str, Any] = {
            "host": settings.smtp_host,
            "port": settings.smtp_port,
            "user": settings.smtp_user,
            "password": settings.smtp_password,
            "security": settings.smtp_security,
            "mail_from": settings.mail_from,
        }
        block = block or settings.smtp_block or os.environ.get(SMTP_BLOCK_ENV)
        if block:
            values.update({k: v for k, v in _load_block(block).items() if v is not None})
        return cls._from_values(values)

    @classmethod
    def from_block(cls, name: str) -> SmtpSettings:
        """From a Prefect Secret block whose value is a JSON object with host, port, user, password,
        security and mail_from."""
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
        mail_from = values.get("mail_from") or (
            f"dltheory-digest@{host}" if "." in host else "dltheory-digest@localhost"
        )
        return cls(
            host=str(host),
            port=int(port),
            user=values.get("user") or None,
            password=password,
            security=security,  # type: ignore[arg-type]  # checked just above
            mail_from=str(mail_from),
        )

    @property
    def domain(self) -> str:
        address = parseaddr(self.mail_from)[1]
        return address.rpartition("@")[2] or "localhost"

    def scrub(self, text: str) -> str:
        """`text` with the password (and its common encodings) blanked."""
        if self.password is None:
            return text
        secret = self.password.get_secret_value()
        if not secret:
            return text
        import base64

        for form in {secret, base64.b64encode(secret.encode()).decode()}:
            text = text.replace(form, "***")
        return text


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
    aliases = {"username": "user", "server": "host", "smtp_server": "host", "smtp_port": "port"}
    return {aliases.get(str(k), str(k)): v for k, v in value.items()}


# ---------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------


def message_id_for(week: str, reader: str, domain: str) -> str:
    """A Message-ID that is the same every time (week, reader) is sent; the address is hashed, not shown."""
    digest = hashlib.sha256(f"{week}\n{reader.strip().lower()}".encode()).hexdigest()[:20]
    return f"<dltheory-digest.{week}.{digest}@{domain}>"


def _transfer_encoding(text: str) -> str:
    # quoted-printable keeps mostly-ASCII Markdown legible in raw form; base64 is shorter for CJK/Arabic
    non_ascii = sum(1 for c in text if ord(c) > 127)
    return "base64" if non_ascii * 3 > len(text) else "quoted-printable"


def build_message(
    *,
    markdown: str,
    html: str,
    subject: str,
    sender: str,
    to: str,
    message_id: str,
    language: str | None = None,
    date: Any = None,
    attachment: tuple[str, str] | None = None,
) -> EmailMessage:
    """`multipart/alternative`: the Markdown as text/plain, the HTML after it (the part clients
    prefer); with an `attachment` (file name, Markdown), `multipart/mixed` around both."""
    import datetime as dt

    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = subject  # the policy encodes non-ASCII subjects (RFC 2047, UTF-8)
    message["From"] = _address_header(sender)
    message["To"] = _address_header(to)
    message["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(markdown, subtype="plain", charset="utf-8", cte=_transfer_encoding(markdown))
    message.add_alternative(html, subtype="html", charset="utf-8", cte=_transfer_encoding(html))
    if attachment:
        name, text = attachment
        message.add_attachment(
            text, subtype="markdown", charset="utf-8", filename=name, cte=_transfer_encoding(text)
        )
    if language:  # after set_content, which drops Content-* headers
        message["Content-Language"] = language
    return message


def _address_header(value: str) -> str | Address:
    name, address = parseaddr(value)
    if not address or "@" not in address:
        return value
    user, _, domain = address.rpartition("@")
    return Address(display_name=name, username=user, domain=domain)


# ---------------------------------------------------------------------------------------
# Editions
# ---------------------------------------------------------------------------------------


class Translator(Protocol):
    """What delivery needs from `dltheory_digest.language.Translator`."""

    def translate_many(self, texts: Sequence[str], *args: Any, **kwargs: Any) -> Sequence[Any]: ...


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
    """Inline LaTeX the model dropped or mangled is appended verbatim, so formulas stay readable."""
    missing = [m.group(0) for m in digest_stage.MATH_SPAN.finditer(source) if m.group(0) not in translated]
    return f"{translated} ({' '.join(missing)})" if missing else translated


class _EditionMaker:
    """Builds zh/ar editions, translating each English text once per language for all readers."""

    def __init__(self, translator: Translator | None) -> None:
        self.translator = translator
        self.cache: dict[tuple[str, str], str] = {}
        self.models: dict[str, str] = {}
        self.failures: dict[str, str] = {}

    def edition(self, digest: Digest, language: str) -> digest_stage.Edition:
        if language == "en":
            return digest_stage.ENGLISH
        if language in self.failures:
            return digest_stage.Edition(language=language, note=self.failures[language])
        if self.translator is None:
            return self._fallback(language, str(TranslationUnavailable("en", language)))
        texts = digest_stage.translatable_texts(digest)
        missing = [t for t in texts if (language, t) not in self.cache]
        if missing:
            try:
                results = self._translate(missing, language)
            except TranslationUnavailable as exc:
                return self._fallback(language, str(exc))
            for text, result in zip(missing, results, strict=True):
                translated = _translated_text(result)
                model = getattr(result, "model", None)
                note = getattr(result, "note", None)
                if note and not model:
                    return self._fallback(language, str(note))
                if model:
                    self.models[language] = str(model)
                if translated and _plausible(text, translated):
                    self.cache[(language, text)] = _keep_math(text, translated)
        translations = {t: self.cache[(language, t)] for t in texts if (language, t) in self.cache}
        model = self.models.get(language) or f"argos en→{language}"
        if texts and not translations:
            return self._fallback(language, f"the output of {model} was unusable (runaway or empty)")
        return digest_stage.Edition(language=language, translations=translations, model=model)

    def _translate(self, texts: Sequence[str], language: str) -> Sequence[Any]:
        assert self.translator is not None
        try:
            return self.translator.translate_many(texts, "en", language)
        except TypeError:
            # keyword form of the language stage's API
            return self.translator.translate_many(texts, from_code="en", to_code=language)

    def _fallback(self, language: str, reason: str) -> digest_stage.Edition:
        note = f"{language} edition requested; {reason}; sent in English"
        self.failures[language] = note
        return digest_stage.Edition(language=language, note=note)


@dataclass(frozen=True)
class Rendered:
    subject: str
    markdown: str
    html: str
    language: str  # the language the text is actually in
    translated_by: str | None
    note: str | None
    papers: int
    # when the message is shortened: (file name, the full digest's Markdown) to attach
    attachment: tuple[str, str] | None = None


# Gmail shows "[Message clipped]" past 102 KB of HTML and hides the rest, links included; a
# message over this budget is shortened and carries the full digest as an attachment.
HTML_BUDGET = 100_000


def render_edition(
    digest: Digest, edition: digest_stage.Edition, *, html_budget: int | None = None
) -> Rendered:
    markdown = digest_stage.render_markdown(digest, edition)
    language = edition.language if edition.translations else "en"
    subject = digest_stage.subject_for(digest, edition)
    html = digest_stage.render_html(markdown, language=language, title=subject)
    attachment = None
    budget = HTML_BUDGET if html_budget is None else html_budget
    if len(html.encode("utf-8")) > budget:
        full_file = f"{digest.week}.md"
        attachment = (full_file, markdown)
        # first the long list of papers below the threshold goes, then the summaries
        for shortened in (
            digest_stage.Shortened(full_file),
            digest_stage.Shortened(full_file, one_line=True),
        ):
            markdown = digest_stage.render_markdown(digest, edition, shortened=shortened)
            html = digest_stage.render_html(markdown, language=language, title=subject)
            if len(html.encode("utf-8")) <= budget:
                break
    return Rendered(
        subject=subject,
        markdown=markdown,
        html=html,
        language=language,
        translated_by=edition.model if edition.translations else None,
        note=edition.note,
        papers=dict(digest.counts).get("papers", 0),
        attachment=attachment,
    )


def preview_html(
    digest: Digest, reader: Reader | None = None, *, translator: Translator | None = None
) -> str:
    """The HTML a reader would receive (the whole digest in English without a reader)."""
    if reader is None:
        return render_edition(digest, digest_stage.ENGLISH).html
    personal = digest_stage.filter_for_reader(digest, reader)
    return render_edition(personal, _EditionMaker(translator).edition(personal, reader.language)).html


# ---------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    """What happened for one reader; `status` is sent, failed, skipped (already sent) or dry-run."""

    reader: str
    week: str
    status: str
    message_id: str
    language: str = "en"
    subject: str = ""
    papers: int = 0
    attempts: int = 0
    error: str | None = None
    translated_by: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


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
        detail = r.error or r.note or (f"translated by {r.translated_by}" if r.translated_by else "")
        cells = [r.reader, r.status, r.language, str(r.papers), str(r.attempts), r.message_id, detail]
        lines.append("| " + " | ".join(digest_stage.md_text(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


class SendFailed(DeliveryError):
    """A message that could not be sent to one reader, after `attempts` tries."""

    def __init__(self, reader: str, message: str, *, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(reader, message)


def _ssl_context(smtp: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if smtp.ca_file:
        context.load_verify_locations(cafile=smtp.ca_file)
    return context


def send_message(smtp: SmtpSettings, message: EmailMessage, *, recipient: str) -> None:
    """One SMTP session: connect (plain, STARTTLS or SSL), log in when a user is set, send, quit."""
    client: smtplib.SMTP
    if smtp.security == "ssl":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=_ssl_context(smtp))
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=_ssl_context(smtp))
        if smtp.user:
            password = smtp.password.get_secret_value() if smtp.password else ""
            client.login(smtp.user, password)
        sender = parseaddr(smtp.mail_from)[1] or smtp.mail_from
        client.send_message(message, from_addr=sender, to_addrs=[recipient])


def _smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def _is_transient(exc: BaseException) -> bool:
    """4xx replies and network trouble are worth another try; 5xx replies are final."""
    if isinstance(
        exc, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError
    ):
        return False
    code = _smtp_code(exc)
    if code is not None:
        return 400 <= code < 500
    return isinstance(
        exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError | socket.timeout
    )


def _describe(exc: BaseException) -> str:
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
    return f"{type(exc).__name__}: {exc}"


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

    Raises `SendFailed` (a `DeliveryError`; password scrubbed) when the message could not be sent.
    """
    send = sender or send_message
    most = retries + 1
    attempt = 0
    while True:
        attempt += 1
        try:
            send(smtp, message, recipient=recipient)
            return attempt
        except (smtplib.SMTPException, OSError) as exc:
            reason = smtp.scrub(_describe(exc))
            # every failed attempt is logged, the last one too, so the log counts what the result says
            if attempt >= most or not _is_transient(exc):
                why = "giving up" if attempt >= most else "not retried (a permanent error)"
                log.warning(
                    "send to %s: attempt %d of %d failed: %s; %s", recipient, attempt, most, reason, why
                )
                raise SendFailed(recipient, reason, attempts=attempt) from None
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
    store: Any,
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
) -> list[DeliveryResult]:
    """Send each reader their edition of `week`'s digest once; see the module docstring.

    `store` may be None only for a dry run (nothing is read from or written to a ledger).
    """
    maker = _EditionMaker(translator)

    def render(reader: Reader) -> Rendered:
        personal = digest_stage.filter_for_reader(digest, reader)
        return render_edition(personal, maker.edition(personal, reader.language))

    return _deliver_all(
        store, week=week, readers=readers, smtp=smtp, render=render, resend=resend,
        dry_run=dry_run, retries=retries, sleep=sleep, backoff=backoff,
    )  # fmt: skip


def deliver_markdown(
    store: Any,
    *,
    week: str,
    markdown: str,
    readers: Sequence[Reader],
    smtp: SmtpSettings,
    resend: bool = False,
    dry_run: bool = False,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    backoff: float = 2.0,
) -> list[DeliveryResult]:
    """Send an already rendered digest (only its Markdown was kept) as it is to every reader:
    no per-reader filters and no translation are possible, and each result says so."""
    title = next(
        (line[2:].strip() for line in markdown.splitlines() if line.startswith("# ")), f"Digest {week}"
    )
    html = digest_stage.render_html(markdown, title=title)
    # only the Markdown was kept, so it cannot be shortened: an oversized one is also attached
    attachment = (f"{week}.md", markdown) if len(html.encode("utf-8")) > HTML_BUDGET else None

    def render(reader: Reader) -> Rendered:
        limited = reader.language != "en" or any(
            (reader.include_directions, reader.exclude_directions, reader.keywords, reader.negative_keywords,
             reader.min_relevance is not None)
        )  # fmt: skip
        note = "the stored digest has only its Markdown: sent unfiltered, in English" if limited else None
        return Rendered(
            subject=title,
            markdown=markdown,
            html=html,
            language="en",
            translated_by=None,
            note=note,
            papers=0,
            attachment=attachment,
        )

    return _deliver_all(
        store, week=week, readers=readers, smtp=smtp, render=render, resend=resend,
        dry_run=dry_run, retries=retries, sleep=sleep, backoff=backoff,
    )  # fmt: skip


def _deliver_all(
    store: Any,
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
) -> list[DeliveryResult]:
    from dltheory_digest.store import deliveries as ledger

    results: list[DeliveryResult] = []
    seen: set[str] = set()
    for reader in readers:
        key = ledger.reader_key(reader.email)
        if key in seen:  # the same address twice in the configuration gets one mail
            continue
        seen.add(key)
        message_id = message_id_for(week, reader.email, smtp.domain)
        if store is not None and not resend:
            previous = ledger.get_delivery(store, week, reader.email)
            if previous is not None and previous.status == "sent":
                results.append(
                    DeliveryResult(
                        reader=reader.email,
                        week=week,
                        status="skipped",
                        message_id=previous.message_id,
                        language=previous.edition,
                        attempts=0,
                        note=f"already sent {previous.updated_at:%Y-%m-%d %H:%M} UTC (use --resend to send again)",
                    )
                )
                continue
        rendered = render(reader)
        base = DeliveryResult(
            reader=reader.email,
            week=week,
            status="dry-run",
            message_id=message_id,
            language=rendered.language,
            subject=rendered.subject,
            papers=rendered.papers,
            translated_by=rendered.translated_by,
            note=rendered.note,
        )
        if dry_run:
            results.append(base)
            continue
        results.append(_send_one(store, smtp, base, rendered, retries=retries, sleep=sleep, backoff=backoff))
    return results


def _send_one(
    store: Any,
    smtp: SmtpSettings,
    base: DeliveryResult,
    rendered: Rendered,
    *,
    retries: int,
    sleep: Callable[[float], None],
    backoff: float,
) -> DeliveryResult:
    from dltheory_digest.store import deliveries as ledger

    message = build_message(
        markdown=rendered.markdown,
        html=rendered.html,
        subject=rendered.subject,
        sender=smtp.mail_from,
        to=base.reader,
        message_id=base.message_id,
        language=rendered.language,
        attachment=rendered.attachment,
    )
    status: ledger.DeliveryStatus = "sent"
    error: str | None = None
    try:
        attempts = send_with_retries(
            smtp, message, recipient=base.reader, retries=retries, backoff=backoff, sleep=sleep
        )
        log.info("digest %s sent to %s (%s, %d papers)", base.week, base.reader, base.language, base.papers)
    except SendFailed as exc:
        status = "failed"
        attempts = exc.attempts
        error = smtp.scrub(str(exc))
        log.error(
            "digest %s not delivered to %s after %d attempt(s): %s", base.week, base.reader, attempts, error
        )
    if store is not None:
        ledger.record_delivery(
            store,
            week=base.week,
            reader=base.reader,
            message_id=base.message_id,
            status=status,
            attempts=attempts,
            error=error,
            edition=rendered.language,
        )
    return _replace(base, status=status, attempts=attempts, error=error)


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
