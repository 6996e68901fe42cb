"""One exception hierarchy; every error that concerns a source carries its id.

Defined here unless another module is named (there, beside the code that raises them):

DigestError
├── ConfigError            bad sources.yaml / settings (names file, source, field); CLI exit 2
├── SourceError            anything tied to one source (has .source_id)
│   ├── FetchError         network failure, HTTP error after retries, size cap
│   │   ├── RobotsDisallowed   robots.txt forbids the URL; nothing was requested
│   │   │   └── fetch.RobotsUnreadable   robots.txt answered 5xx/429 or is unreadable
│   │   ├── fetch.HTTPStatusError        a final status >= 400 (keeps the page)
│   │   └── fetch.SiteUnreachable        no answer for robots.txt at all (DNS, refused, TLS)
│   └── ParseError         bytes that the kind cannot read at all
├── StoreError             the database cannot be opened or migrated
│   └── store.locks.LockTimeout          a lock still held when the wait for it ran out
│                                        (also a TimeoutError)
├── TranslationUnavailable no model for a language pair (the pipeline goes on untranslated)
├── language.argos.ModelInstallError     a translation package not found or not installed
└── DeliveryError          SMTP failure for one reader (has .reader)
    └── mail.SendFailed                  not sent after its attempts
        └── mail.ServerUnavailable       the SMTP session failed: it would for every reader
            └── mail.MaybeDelivered      handed over, no answer: maybe delivered, not retried

Outside the tree, each caught within its own module:
sources.decode.UndecodableContent (ValueError), demo.server.ApiError (ValueError) and
cli.orchestrate_cmd.NotServed (Exception).
"""

from __future__ import annotations

from enum import StrEnum

from dltheory_digest.models import NOTE_UNTRANSLATED


class DigestError(Exception):
    """Base of every error raised by dltheory-digest."""


class ConfigError(DigestError):
    """Invalid configuration; the message names the file, the source and the field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        source_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.source_id = source_id
        self.field = field
        super().__init__(message)


class SourceError(DigestError):
    def __init__(self, source_id: str, message: str, *, url: str | None = None) -> None:
        self.source_id = source_id
        self.url = url
        self.detail = message  # without the id, for places that name the source already
        super().__init__(f"[{source_id}] {message}")


class Unreachable(StrEnum):
    """Why a host could not be reached (`FetchError.unreachable`); the values are the words
    the error message uses."""

    NAME_NOT_RESOLVED = "name not resolved"
    NETWORK_UNREACHABLE = "network unreachable"
    REFUSED = "connection refused"
    NO_ROUTE = "no route to host"
    TIMED_OUT = "timed out"
    OTHER = "other"  # a TLS failure, a reset: the library's own words are in the message

    @property
    def offline(self) -> bool:
        """Whether it is this machine that looks cut off (no name resolves, no network), not
        the one host: a refused connection or a timeout means the network is there."""
        return self in (Unreachable.NAME_NOT_RESOLVED, Unreachable.NETWORK_UNREACHABLE)


class FetchError(SourceError):
    def __init__(
        self,
        source_id: str,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        unreachable: Unreachable | None = None,
    ) -> None:
        self.status = status
        # set when no response came because the host could not be reached at all
        self.unreachable = unreachable
        super().__init__(source_id, message, url=url)


class RobotsDisallowed(FetchError):
    """robots.txt disallows the URL for our user agent."""


class ParseError(SourceError):
    pass


class StoreError(DigestError):
    pass


class TranslationUnavailable(DigestError):
    def __init__(self, from_code: str, to_code: str, message: str | None = None) -> None:
        self.from_code = from_code
        self.to_code = to_code
        super().__init__(
            message
            or f"{NOTE_UNTRANSLATED} no {from_code}→{to_code} model "
            f"(run `dltheory-digest models install {from_code if to_code == 'en' else to_code}`)"
        )


class DeliveryError(DigestError):
    def __init__(self, reader: str, message: str) -> None:
        self.reader = reader
        super().__init__(f"[{reader}] {message}")
