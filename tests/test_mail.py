"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1) and a real SQLite ledger."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import logging
import re
import signal
import smtplib
import socket
import sqlite3
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import event, select

from dltheory_digest import digest as dg
from dltheory_digest import mail
from dltheory_digest.config import Reader, Settings, load_settings
from dltheory_digest.errors import ConfigError
from dltheory_digest.models import Note, NoteKind
from dltheory_digest.store import deliveries as ledger
from dltheory_digest.store import open_store
from dltheory_digest.store.schema import deliveries
from tests.digest.test_build import (
    EchoTranslator,
    assert_inert,
    digest_with_talks,
    sample_digest,
    sample_inputs,
)

WEEK = "2026-W47"
PASSWORD = "s3cret-Pa55-w0rd!"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)


@dataclass
class Mailbox:
    """aiosmtpd handler: records what arrives; refuses or delays the recipients it is told to."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # 550 at RCPT
    busy: dict[str, int] = field(default_factory=dict)  # address -> how many more 451s at RCPT

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        if self.busy.get(address, 0) > 0:
            self.busy[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.recipients]


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"digest" and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@contextmanager
def serving(handler: Any, **options: Any) -> Iterator[int]:
    """A real aiosmtpd server on 127.0.0.1 with `handler`, for the block: its port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with serving(handler) as port:
        yield handler, port


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield opened
    opened.close()


def smtp_for(port: int, **changes: Any) -> mail.SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "mail_from": "DL Theory <digest@example.org>",
    }
    values.update(changes)
    return mail.SmtpSettings(**values)


def no_sleep(waits: list[float] | None = None) -> Any:
    def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    return sleep


def text_of(message: EmailMessage, kind: str = "plain") -> str:
    """A decoded body part; text travels in canonical CRLF form."""
    body = message.get_body((kind,))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def ledger_rows(store: Any) -> list[dict[str, Any]]:
    with store.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(select(deliveries).order_by(deliveries.c.reader))]


# --- messages -----------------------------------------------------------------------------------


def test_both_parts_arrive_with_the_right_headers(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    digest = sample_digest()
    reader = Reader(email="ada@example.org")
    [result] = mail.deliver(store, week=WEEK, digest=digest, readers=[reader], smtp=smtp_for(port))
    assert result.status == "sent" and result.attempts == 1 and result.papers == 4
    [received] = box.received
    assert received.sender == "digest@example.org" and received.recipients == ["ada@example.org"]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
    assert message["Subject"] == "DL theory digest 2026-W47: 4 papers, 1 updated" == result.subject
    assert message["To"] == "ada@example.org"
    assert message["From"].addresses[0].addr_spec == "digest@example.org"
    assert message["Message-ID"] == result.message_id
    # the week, then the hashed address with a token of this ledger's delivery in its last digits
    hashed = mail.message_id_for(WEEK, "ada@example.org", "example.org")[len("<dltheory-digest.2026-W47.") :][
        :12
    ]
    assert re.fullmatch(
        rf"<dltheory-digest\.2026-W47\.{hashed}[0-9a-f]{{8}}@example\.org>", result.message_id
    )
    expected = dg.render_markdown(dg.filter_for_reader(digest, reader), for_reader=True)
    assert text_of(message) == dg.render_plain_text(expected)
    html = text_of(message, "html")
    assert "神经正切核：收敛与泛化" in html and "فهم التعلم العميق" in html
    assert_inert(html)


def test_chinese_and_arabic_editions_decode_equal(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    translator = EchoTranslator()
    readers = [Reader(email="li@example.org", language="zh"), Reader(email="amal@example.org", language="ar")]
    results = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port), translator=translator
    )
    assert [r.status for r in results] == ["sent", "sent"]
    assert [r.language for r in results] == ["zh", "ar"]
    [zh] = box.to("li@example.org")
    [ar] = box.to("amal@example.org")
    assert zh["Subject"] == "深度学习理论周报 2026-W47：4 篇论文，1 篇更新" == results[0].subject
    assert ar["Subject"] == results[1].subject and ar["Subject"].startswith("موجز نظرية التعلم العميق")
    assert "=?utf-8?" in box.received[0].raw.decode("ascii").lower()  # RFC 2047 on the wire, 7-bit clean
    assert zh["Content-Language"] == "zh" and ar["Content-Language"] == "ar"
    zh_text = text_of(zh)
    assert "# 深度学习理论周报" in zh_text and "**标题:** 译:Gradient Descent" in zh_text
    assert "### [Gradient Descent Provably Optimizes Over-parameterized Neural Networks]" in zh_text
    assert "由英文机器翻译，模型 argos en→zh" in zh_text
    ar_html = text_of(ar, "html")
    assert '<html lang="ar" dir="rtl">' in ar_html and "مترجم:" in ar_html
    assert [(lang) for _, _, lang in translator.calls] == ["zh", "ar"]


def test_two_readers_get_their_own_editions(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    readers = [
        Reader(email="kernel@example.org", include_directions=("kernels",)),
        Reader(email="opt@example.org", keywords=("gradient descent",), negative_keywords=("kernel",)),
    ]
    results = mail.deliver(store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port))
    assert [(r.reader, r.papers) for r in results] == [("kernel@example.org", 1), ("opt@example.org", 1)]
    kernel = text_of(box.to("kernel@example.org")[0])
    opt = text_of(box.to("opt@example.org")[0])
    assert "Neural Tangent Kernel: Convergence" in kernel and "Gradient Descent Provably" not in kernel
    assert "Gradient Descent Provably" in opt and "## Neural tangent kernel" not in opt
    assert box.to("kernel@example.org")[0]["Message-ID"] != box.to("opt@example.org")[0]["Message-ID"]


def test_readers_following_different_authors_get_different_editions(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    readers = [
        # Boaz Barak's paper is under the week's threshold: it joins this reader's directions
        Reader(email="barak@example.org", keywords=("kernel",), authors=("B. Barak",)),
        Reader(email="jacot@example.org", keywords=("kernel",), authors=("Jacot, Arthur",), language="zh"),
    ]
    results = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=readers,
        smtp=smtp_for(port),
        translator=EchoTranslator(),
    )
    assert [(r.reader, r.papers) for r in results] == [("barak@example.org", 2), ("jacot@example.org", 1)]
    barak = text_of(box.to("barak@example.org")[0])
    jacot = text_of(box.to("jacot@example.org")[0])
    assert "`★ followed: Boaz Barak`" in barak and "Deep Double Descent" in barak
    assert barak.count("★") == 1  # the kernel paper came by its keyword: not marked
    assert "`★ 关注的作者：Arthur Jacot`" in jacot and "Deep Double Descent" not in jacot
    html = text_of(box.to("barak@example.org")[0], "html")
    assert "★ followed: Boaz Barak</code>" in html and "Arthur Jacot</code>" not in html


# --- the ledger ---------------------------------------------------------------------------------


def test_rerun_sends_nothing_and_resend_sends_again(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    readers = [
        Reader(email="ada@example.org"),
        Reader(email="ADA@example.org"),
        Reader(email="bo@example.org"),
    ]
    first = mail.deliver(store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port))
    assert [r.status for r in first] == ["sent", "sent"]  # the same address twice gets one mail
    assert len(box.received) == 2

    again = mail.deliver(store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port))
    assert [r.status for r in again] == ["skipped", "skipped"]
    assert len(box.received) == 2
    assert "already sent" in (again[0].note or "")

    resent = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port), resend=True
    )
    assert [r.status for r in resent] == ["sent", "sent"]
    assert len(box.received) == 4
    # clients drop a message whose id they have seen: a resend has its own, threaded to the first
    first_message, again_ = box.received[0].message, box.received[2].message
    first_id = first_message["Message-ID"]
    assert again_["Message-ID"] != first_id and again_["References"] == first_id
    assert first_message["References"] is None
    third = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers[:1], smtp=smtp_for(port), resend=True
    )
    assert third[0].message_id not in {first_id, again_["Message-ID"]}
    assert box.received[4].message["References"] == first_id

    other_week = mail.deliver(
        store, week="2026-W48", digest=sample_digest(), readers=readers, smtp=smtp_for(port)
    )
    assert [r.status for r in other_week] == ["sent", "sent"]
    assert {(d.week, d.reader, d.status) for d in ledger.deliveries_of(store)} == {
        ("2026-W47", "ada@example.org", "sent"),
        ("2026-W47", "bo@example.org", "sent"),
        ("2026-W48", "ada@example.org", "sent"),
        ("2026-W48", "bo@example.org", "sent"),
    }


def test_refused_reader_does_not_stop_the_others(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    box.refuse.add("gone@example.org")
    readers = [Reader(email=a) for a in ("ada@example.org", "gone@example.org", "bo@example.org")]
    waits: list[float] = []
    results = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port), sleep=no_sleep(waits)
    )
    assert [r.status for r in results] == ["sent", "failed", "sent"]
    failed = results[1]
    assert failed.attempts == 1 and waits == []  # a 5xx answer is final: no retry
    assert "550" in (failed.error or "") and "no such mailbox" in (failed.error or "")
    assert sorted(r for rec in box.received for r in rec.recipients) == ["ada@example.org", "bo@example.org"]
    report = mail.delivery_report(results)
    assert (
        "| gone@example.org | failed | en | 4 | 1 |" in report
        and "| ada@example.org | sent | en | 4 | 1 |" in report
    )
    rows = {r["reader"]: r for r in ledger_rows(store)}
    assert rows["gone@example.org"]["status"] == "failed" and rows["gone@example.org"]["attempts"] == 1
    assert rows["ada@example.org"]["status"] == "sent"

    # the next run tries the failed reader again and skips the others
    box.refuse.clear()
    rerun = mail.deliver(store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port))
    assert [r.status for r in rerun] == ["skipped", "sent", "skipped"]


def test_busy_server_is_retried_with_back_off(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    box.busy["ada@example.org"] = 2
    waits: list[float] = []
    [result] = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[Reader(email="ada@example.org")],
        smtp=smtp_for(port),
        sleep=no_sleep(waits),
    )
    assert result.status == "sent" and result.attempts == 3
    assert waits == [2.0, 4.0]
    assert len(box.received) == 1


def test_retries_run_out_and_are_recorded(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    box.busy["ada@example.org"] = 99
    waits: list[float] = []
    [result] = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[Reader(email="ada@example.org")],
        smtp=smtp_for(port),
        retries=2,
        sleep=no_sleep(waits),
    )
    assert result.status == "failed" and result.attempts == 3 and waits == [2.0, 4.0]
    assert "451" in (result.error or "")
    assert ledger.get_delivery(store, WEEK, "ada@example.org").attempts == 3  # type: ignore[union-attr]


def test_the_log_counts_the_attempts_the_result_reports(
    mailbox: tuple[Mailbox, int], store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    box, port = mailbox
    box.busy["ada@example.org"] = 99
    with caplog.at_level(logging.WARNING, logger="dltheory_digest.mail"):
        [result] = mail.deliver(
            store,
            week=WEEK,
            digest=sample_digest(),
            readers=[Reader(email="ada@example.org")],
            smtp=smtp_for(port),
            sleep=no_sleep(),
        )
    assert result.status == "failed" and result.attempts == 4  # the first try and 3 retries
    messages = [r.getMessage() for r in caplog.records]
    failures = [m for m in messages if re.search(r"attempt \d of 4 failed", m)]
    assert [re.findall(r"attempt (\d) of 4", m) for m in failures] == [["1"], ["2"], ["3"], ["4"]]
    assert "giving up" in failures[-1] and "after 4 attempt(s)" in caplog.records[-1].getMessage()


def test_unreachable_server_fails_every_reader_cleanly(store: Any) -> None:
    port = free_port()  # nothing listens there
    waits: list[float] = []
    results = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[Reader(email="ada@example.org"), Reader(email="bo@example.org")],
        smtp=smtp_for(port, timeout=2.0),
        retries=1,
        sleep=no_sleep(waits),
    )
    assert [r.status for r in results] == ["failed", "failed"]
    # the first reader is retried; the server is down for everyone, so the second is not tried
    assert waits == [2.0] and [r.attempts for r in results] == [2, 0]
    first, second = results
    assert first.error == second.error and f"127.0.0.1:{port}" in (first.error or "")
    assert (first.error or "").startswith("ConnectionRefusedError")  # no "[reader]" prefix
    assert (first.server_down, second.server_down) == (mail.SERVER_FAILED, mail.NOT_TRIED)
    assert [(r["reader"], r["status"], r["error"]) for r in ledger_rows(store)] == [
        ("ada@example.org", "failed", first.error),
        ("bo@example.org", "failed", first.error),
    ]


def test_a_server_failure_keeps_the_readers_own_note(store: Any) -> None:
    port = free_port()  # nothing listens there
    readers = [Reader(email="amal@example.org", language="ar"), Reader(email="li@example.org", language="zh")]
    results = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port, timeout=2.0),
        retries=0, sleep=no_sleep(), translator=None,
    )  # fmt: skip
    failed, not_tried = results
    assert [r.status for r in results] == ["failed", "failed"]
    assert failed.server_down == mail.SERVER_FAILED and not_tried.server_down == mail.NOT_TRIED
    # why each edition fell back to English is still there, beside the server's failure
    assert (failed.note or "").startswith("Arabic edition requested")
    assert "models install ar" in (failed.note or "")
    assert (not_tried.note or "").startswith("Chinese edition requested")
    assert not_tried.detail == "; ".join([not_tried.error or "", mail.NOT_TRIED, not_tried.note or ""])
    table = mail.delivery_report(results)
    assert "not tried: the SMTP server failed" in table and "Arabic edition requested" in table


class TakenOverMailbox(Mailbox):
    """At RCPT (before the message goes out) or DATA (once the server has it), another run tries
    to take the reader over: the sender's hold has expired (a zero hold stands for an exchange
    that outlasted `ledger.HOLD`)."""

    def __init__(self, other_run: Any, at: str) -> None:
        super().__init__()
        self.other_run = other_run
        self.at = at
        self.takeovers: list[ledger.Reservation] = []

    def _take_over(self, address: str) -> None:
        self.takeovers.append(
            ledger.reserve(
                self.other_run,
                week=WEEK,
                reader=address,
                message_id="<other-run@example.org>",
                hold=dt.timedelta(0),
            )
        )

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.at == "RCPT":
            self._take_over(address)
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.at == "DATA":
            for address in envelope.rcpt_tos:
                self._take_over(address)
        return await super().handle_DATA(server, session, envelope)


def _deliver_while_taken_over(tmp_path: Path, at: str) -> tuple[Any, TakenOverMailbox, Any]:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    this_run, other_run = open_store(url), open_store(url)
    handler = TakenOverMailbox(other_run, at)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        [result] = mail.deliver(
            this_run, week=WEEK, digest=sample_digest(), readers=[Reader(email="ada@example.org")],
            smtp=smtp_for(port),
        )  # fmt: skip
    finally:
        controller.stop()
    row = ledger.get_delivery(this_run, WEEK, "ada@example.org")
    this_run.close()
    other_run.close()
    return result, handler, row


def test_a_send_whose_hold_was_taken_over_before_the_message_went_out_sends_nothing(
    tmp_path: Path,
) -> None:
    result, handler, row = _deliver_while_taken_over(tmp_path, "RCPT")
    assert [t.granted for t in handler.takeovers] == [True]
    # the other run mails the reader: this one does not as well, and leaves its row alone
    assert handler.received == [] and result.status == "skipped" and result.skip_reason == "held"
    assert not result.recorded and "another run took the reader over" in result.detail
    assert row is not None and row.status == "sending" and row.message_id == "<other-run@example.org>"


def test_a_stale_hold_whose_message_was_handed_over_is_not_taken_over(tmp_path: Path) -> None:
    result, handler, row = _deliver_while_taken_over(tmp_path, "DATA")
    # the message may have arrived: the other run is refused, as for an unconfirmed reader
    [takeover] = handler.takeovers
    assert not takeover.granted and takeover.reason == "unconfirmed"
    # and this run, which got the server's 250, records the delivery over the settled row
    assert result.status == "sent" and result.recorded and len(handler.received) == 1
    assert row is not None and row.status == "sent" and row.message_id == result.message_id


class LockingMailbox(Mailbox):
    """At RCPT for `locked_for` (before the message goes out), another process locks the store
    for writing, as `store prune` on a big store does, until the test lets go."""

    def __init__(self, path: Path, locked_for: str) -> None:
        super().__init__()
        self.locked_for = locked_for
        self.locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == self.locked_for:
            self.locker.execute("BEGIN EXCLUSIVE")
        return await super().handle_RCPT(server, session, envelope, address, options)

    def release(self) -> None:
        if self.locker.in_transaction:
            self.locker.execute("ROLLBACK")


@pytest.mark.parametrize("released", ["before-finish", "after-finish"])
def test_a_store_locked_while_the_handover_is_recorded_fails_that_reader_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, released: str
) -> None:
    """The handover cannot be written (the store stays locked past the busy timeout): the body
    is not sent, that reader fails, and the next reader is still mailed. Whether or not the
    outcome can then be written, the next run tries the reader again."""
    path = tmp_path / "store.sqlite"
    store = open_store(f"sqlite:///{path}")

    def short_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")  # the store waits 30 s: too long here

    event.listen(store.engine, "connect", short_busy_wait)
    store.engine.dispose()
    handler = LockingMailbox(path, "ada@example.org")
    real_finish = ledger.finish

    def finish_then_release(*args: Any, **kwargs: Any) -> ledger.Delivery | None:
        if released == "before-finish":
            handler.release()
        try:
            return real_finish(*args, **kwargs)
        finally:
            handler.release()

    monkeypatch.setattr(ledger, "finish", finish_then_release)
    readers = [Reader(email="ada@example.org"), Reader(email="bo@example.org")]
    try:
        with serving(handler) as port:
            ada, bo = mail.deliver(
                store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port)
            )
    finally:
        handler.release()
        handler.locker.close()
    monkeypatch.undo()
    assert [r.recipients for r in handler.received] == [["bo@example.org"]]  # nothing went out to Ada
    assert bo.status == "sent" and bo.recorded
    assert ada.status == "failed" and ada.attempts == 1 and "locked by another process" in (ada.error or "")
    assert (ada.error or "").startswith("not sent: the store could not record")
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None
    if released == "before-finish":
        assert ada.recorded and row.status == "failed" and row.error == ada.error
        again = ledger.reserve(store, week=WEEK, reader="ada@example.org", message_id=ada.message_id)
    else:  # the outcome could not be written either: the row stays this run's hold, not handed over
        # no handover recorded (attempts 0): once its holder is gone it is retaken, not settled
        assert not ada.recorded and row.status == "sending" and row.attempts == 0
        assert "not recorded: the store could not be written" in ada.detail
        assert "another run took the reader over" not in ada.detail
        again = ledger.reserve(  # once this run's hold is gone, the reader is taken again
            store, week=WEEK, reader="ada@example.org", message_id=ada.message_id, hold=dt.timedelta(0)
        )
    assert again.granted
    store.close()


def _store_gone() -> Exception:
    from sqlalchemy.exc import OperationalError

    return OperationalError("SELECT", {}, Exception("connection failed: Connection refused"))


def test_a_store_failing_to_read_the_ledger_stops_the_mailing_and_keeps_the_results(
    mailbox: tuple[Mailbox, int], store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As when the server fails: the reader whose row cannot be read and those after are not
    tried, nothing more is recorded, and the results say who was mailed before."""
    box, port = mailbox
    real_get = ledger.get_delivery

    def gone_after_ada(store: Any, week: str, reader: str) -> Any:
        if reader != "ada@example.org":
            raise _store_gone()
        return real_get(store, week, reader)

    monkeypatch.setattr(ledger, "get_delivery", gone_after_ada)
    readers = [Reader(email=f"{name}@example.org") for name in ("ada", "bo", "bo", "cy")]
    results = mail.deliver(store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port))
    monkeypatch.undo()
    assert [(r.reader, r.status) for r in results] == [
        ("ada@example.org", "sent"), ("bo@example.org", "failed"), ("cy@example.org", "failed"),
    ]  # fmt: skip
    assert [r.store_down for r in results] == [None, *["connection failed: Connection refused"] * 2]
    assert results[1].detail.startswith("not mailed: the store could not be read or written")
    assert [m.recipients for m in box.received] == [["ada@example.org"]]
    assert [(r["reader"], r["status"]) for r in ledger_rows(store)] == [("ada@example.org", "sent")]


def test_a_sent_outcome_the_store_refuses_is_written_again(
    mailbox: tuple[Mailbox, int], store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server took the message (250): its `sent` is worth a few short waits, or the next
    run could only call the message unconfirmed."""
    _box, port = mailbox
    real_finish = ledger.finish
    refusals = iter([_store_gone(), _store_gone()])

    def refused_twice(*args: Any, **kwargs: Any) -> Any:
        refusal = next(refusals, None)
        if refusal is not None:
            raise refusal
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(ledger, "finish", refused_twice)
    waits: list[float] = []
    [ada] = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=[Reader(email="ada@example.org")],
        smtp=smtp_for(port), sleep=no_sleep(waits),
    )  # fmt: skip
    assert ada.status == "sent" and ada.recorded and waits == list(mail.SENT_WRITE_WAITS[:2])
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None and row.status == "sent"


def test_a_sent_outcome_whose_refused_write_had_landed_is_recorded(
    mailbox: tuple[Mailbox, int],
    store: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The connection drops after COMMIT reached the store: the write raised, yet the row is
    `sent`, so the retry (conditional on the row as reserved) matches nothing. That is this run's
    own record, not another run's takeover."""
    box, port = mailbox
    real_finish = ledger.finish
    calls: list[Any] = []

    def committed_then_lost(*args: Any, **kwargs: Any) -> Any:
        calls.append(real_finish(*args, **kwargs))
        if len(calls) == 1:
            raise _store_gone()
        return calls[-1]

    monkeypatch.setattr(ledger, "finish", committed_then_lost)
    waits: list[float] = []
    with caplog.at_level(logging.WARNING, logger="dltheory_digest.mail"):
        [ada] = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=[Reader(email="ada@example.org")],
            smtp=smtp_for(port), sleep=no_sleep(waits),
        )  # fmt: skip
    monkeypatch.undo()
    assert calls[0] is not None and calls[1] is None  # the retry found the row already written
    assert ada.status == "sent" and ada.recorded and waits == list(mail.SENT_WRITE_WAITS[:1])
    assert not [r for r in caplog.records if mail.NOT_RECORDED in r.getMessage()]
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None and (row.status, row.message_id) == ("sent", ada.message_id)
    assert len(box.received) == 1


def test_a_sent_outcome_never_written_is_explained_without_blaming_the_server(
    mailbox: tuple[Mailbox, int], store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store stays down after the 250: the row is left handed over, and the next run's
    words for it must not say the server never answered (it did) nor that the run was killed."""
    box, port = mailbox

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise _store_gone()

    monkeypatch.setattr(ledger, "finish", refused)
    waits: list[float] = []
    reader = Reader(email="ada@example.org")
    [ada] = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=[reader], smtp=smtp_for(port),
        sleep=no_sleep(waits),
    )  # fmt: skip
    monkeypatch.undo()
    assert ada.status == "sent" and not ada.recorded and waits == list(mail.SENT_WRITE_WAITS)
    assert "not recorded: the store could not be written" in ada.detail
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None and row.handed_over
    settled = ledger.settle_abandoned(store, row, hold=dt.timedelta(0))  # its run long gone
    assert settled is not None and settled.status == "unconfirmed"
    assert "could not record the server's answer" in (settled.error or "")
    assert "or the store could not be written" in (settled.error or "")
    note = mail._skip_note(settled, "unconfirmed")
    assert "answer was never recorded" in note and "never confirmed" not in note
    assert len(box.received) == 1


def test_dry_run_sends_and_records_nothing(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    results = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[Reader(email="ada@example.org", language="zh")],
        smtp=smtp_for(port),
        dry_run=True,
    )
    assert [r.status for r in results] == ["dry-run"]
    assert box.received == [] and ledger_rows(store) == []


def test_missing_translation_model_falls_back_to_english_and_says_so(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    [result] = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[Reader(email="amal@example.org", language="ar")],
        smtp=smtp_for(port),
        translator=None,
    )
    assert result.status == "sent" and result.language == "en" and result.translated_by is None
    # the operator is told why and what to run; the reader gets a hand-written line in Arabic
    assert "Arabic edition requested" in (result.note or "") and "; in English" in (result.note or "")
    assert "models install ar" in (result.note or "")
    text = text_of(box.to("amal@example.org")[0])
    assert text.startswith("# Deep-learning theory digest")
    assert dg.labels_for("ar")["untranslated"] in text
    assert "no en→ar model" not in text and "Arabic edition requested" not in text


def test_readers_get_the_run_notes_in_their_language_and_the_operator_keeps_the_command(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    inputs = {
        **sample_inputs(),
        "notes": [
            Note(
                NoteKind.UNTRANSLATED,
                "untranslated: no zh→en model (run `dltheory-digest models install zh`)",
                lang="zh",
            )
        ],
        "reports": [dg.build_digest(**sample_inputs()).reports[0], _failed_report()],
    }
    digest = dg.build_digest(**inputs)
    readers = [
        Reader(email="ada@example.org"),
        Reader(email="li@example.org", language="zh"),
        Reader(email="amal@example.org", language="ar"),
    ]
    results = mail.deliver(
        store, week=WEEK, digest=digest, readers=readers, smtp=smtp_for(port), translator=EchoTranslator()
    )
    assert [r.status for r in results] == ["sent"] * 3
    ada, li, amal = (text_of(box.to(r.email)[0]) for r in readers)
    html = text_of(box.to("amal@example.org")[0], "html")
    for text in (ada, li, amal, html):
        assert "models install" not in text and "/srv/dltheory" not in text
    assert dg.labels_for("en")["note_untranslated"] in ada
    assert (
        dg.labels_for("ar")["note_untranslated"] in amal and dg.labels_for("ar")["note_untranslated"] in html
    )
    # Chinese texts are the zh reader's own: nothing untranslated to note
    assert dg.labels_for("zh")["note_untranslated"] not in li
    assert "models install zh" in dg.render_markdown(digest)  # the operator's file keeps it


def _failed_report() -> Any:
    from dltheory_digest.models import SourceReport

    return SourceReport("dead-blog", "feed", error="[dead-blog] OSError: /srv/dltheory/cache.db is locked")


def test_an_html_comment_in_a_kept_markdown_never_reaches_the_readers_mail(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    """The sanitizer strips comments (`strip_comments`): a note to self in an edited Markdown
    file, or a comment smuggled into a paper's text, is not mailed as hidden HTML."""
    box, port = mailbox
    markdown = (
        "# Digest 2026-W47\n\n<!-- operator: drop the second paper? -->\n\n"
        "One paper <!-- x --> worth reading.\n"
    )
    [result] = mail.deliver_markdown(
        store, week=WEEK, markdown=markdown, readers=[Reader(email="ada@example.org")], smtp=smtp_for(port)
    )
    assert result.status == "sent"
    [message] = box.to("ada@example.org")
    html = text_of(message, "html")
    body = html.split("<body", 1)[1]
    assert "worth reading" in body
    assert "<!--" not in body and "drop the second paper" not in body and "<!-- x -->" not in body


def test_markdown_only_digest_is_sent_as_it_is(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    markdown = dg.render_markdown(sample_digest())
    readers = [
        Reader(email="ada@example.org"),
        Reader(email="li@example.org", language="zh"),
        Reader(email="kernel@example.org", include_directions=("kernels",)),
    ]
    results = mail.deliver_markdown(store, week=WEEK, markdown=markdown, readers=readers, smtp=smtp_for(port))
    # a zh edition or a filter cannot be made from the Markdown: those readers are held back
    assert [r.status for r in results] == ["sent", "held", "held"]
    # nor can the marks and papers of followed authors (dry run: nothing sent or recorded)
    following = Reader(email="fan@example.org", authors=("Arthur Jacot",))
    [held] = mail.deliver_markdown(
        None, week=WEEK, markdown=markdown, readers=[following], smtp=smtp_for(port), dry_run=True
    )
    assert held.status == "held"
    assert results[0].note is None and "--force" in (results[1].note or "")
    # the Markdown alone does not say how many papers it holds: unknown, not an empty week
    assert results[0].papers is None and "| ada@example.org | sent | en | ? |" in mail.delivery_report(
        results
    )
    # the operator reads language names, with their article and verb
    assert (results[1].note or "").startswith("a Chinese edition needs the stored digest")
    assert (results[2].note or "").startswith("filters need the stored digest")
    arabic = mail.deliver_markdown(
        None, week=WEEK, markdown=markdown, readers=[Reader(email="amal@example.org", language="ar",
        keywords=("kernel",))], smtp=smtp_for(port), dry_run=True,
    )  # fmt: skip
    assert (arabic[0].note or "").startswith("an Arabic edition and filters need the stored digest")
    assert [r.recipients for r in box.received] == [["ada@example.org"]]
    assert [r["reader"] for r in ledger_rows(store)] == ["ada@example.org"]  # held is not recorded
    # as the stored digest would have been rendered for a reader: no run notes or source errors
    sent = dg.reader_copy(markdown)
    assert text_of(box.to("ada@example.org")[0]) == dg.render_plain_text(sent)
    assert "models install" not in sent and "HTTP 503" not in sent

    forced = mail.deliver_markdown(
        store, week=WEEK, markdown=markdown, readers=readers, smtp=smtp_for(port), force=True
    )
    assert [r.status for r in forced] == ["skipped", "sent", "sent"]
    assert "unfiltered, in English" in (forced[1].note or "")
    assert text_of(box.to("li@example.org")[0]) == dg.render_plain_text(sent)


def test_a_failed_resend_keeps_the_reader_delivered(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    ada = [Reader(email="ada@example.org")]
    first = mail.deliver(store, week=WEEK, digest=sample_digest(), readers=ada, smtp=smtp_for(port))
    assert first[0].status == "sent"
    box.refuse.add("ada@example.org")
    failed = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=ada, smtp=smtp_for(port), resend=True
    )
    assert failed[0].status == "failed"
    assert (failed[0].error or "").startswith("recipient refused: 550")  # no "[reader]" prefix
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None and row.status == "sent" and row.delivered
    assert (row.error or "").startswith("resend failed: recipient refused")
    # the reader has the week: a plain run does not mail them a second time
    box.refuse.clear()
    again = mail.deliver(store, week=WEEK, digest=sample_digest(), readers=ada, smtp=smtp_for(port))
    assert again[0].status == "skipped" and len(box.received) == 1
    # the failed resend's id was tried (it may have arrived): the next resend takes a new one
    resent = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=ada, smtp=smtp_for(port), resend=True
    )
    ids = {first[0].message_id, failed[0].message_id, resent[0].message_id}
    assert resent[0].status == "sent" and len(ids) == 3 and len(box.received) == 2


@dataclass
class GatedMailbox(Mailbox):
    """Holds the DATA of `gated` until `gate` is set, and says (`entered`) when one arrived."""

    gated: str = "ada@example.org"
    gate: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.gated in envelope.rcpt_tos:
            self.entered.set()
            while not self.gate.is_set():
                await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("resend", [False, True])
def test_two_runs_at_once_mail_a_reader_once(tmp_path: Path, resend: bool) -> None:
    handler = GatedMailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    first_run, second_run = open_store(url), open_store(url)
    readers = [Reader(email="ada@example.org"), Reader(email="bo@example.org")]
    try:
        if resend:  # both runs resend to a reader who already has the week
            handler.gate.set()
            mail.deliver(
                first_run, week=WEEK, digest=sample_digest(), readers=readers[:1], smtp=smtp_for(port)
            )
            handler.gate.clear()
            handler.entered.clear()
        before = len(handler.to("ada@example.org"))
        first_results: list[mail.DeliveryResult] = []

        def run() -> None:
            first_results.extend(
                mail.deliver(
                    first_run,
                    week=WEEK,
                    digest=sample_digest(),
                    readers=readers[:1],
                    smtp=smtp_for(port),
                    resend=resend,
                )
            )

        thread = threading.Thread(target=run)
        thread.start()
        assert handler.entered.wait(60)  # the first run is in the middle of its SMTP exchange
        second = mail.deliver(
            second_run, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port), resend=resend
        )
        handler.gate.set()
        thread.join(60)
    finally:
        handler.gate.set()
        controller.stop()
    assert [r.status for r in first_results] == ["sent"]
    assert [r.status for r in second] == ["skipped", "sent"]
    assert "being sent by another run" in (second[0].note or "")
    assert len(handler.to("ada@example.org")) == before + 1 and len(handler.to("bo@example.org")) == 1
    row = ledger.get_delivery(second_run, WEEK, "ada@example.org")
    assert row is not None and row.status == "sent"
    first_run.close()
    second_run.close()


def test_a_reader_another_run_keeps_busy_is_not_reported_as_already_sent(
    mailbox: tuple[Mailbox, int], store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reserve` gives up on a row that kept changing under it ("held"); the row it then reads
    may be another run's failed try: the reader never got the week, so "already sent" is wrong."""
    box, port = mailbox
    failed = ledger.record_delivery(
        store, week=WEEK, reader="ada@example.org", message_id="<other@example.org>", status="failed",
        attempts=3, error="451 try again later",
    )  # fmt: skip
    # Stands in for `reserve`: giving up takes a row changed five times in a row between its
    # read and its conditional write, which no test can time. A refusal from a real live hold
    # is the next test.
    monkeypatch.setattr(ledger, "reserve", lambda *args, **kwargs: ledger.Reservation(False, failed, "held"))
    [result] = _mail_ada(store, port)
    assert result.status == "skipped" and box.received == []
    assert (result.note or "").startswith("being sent by another run")
    assert "already sent" not in (result.note or "")


def test_a_reader_another_live_run_takes_while_the_edition_is_built_is_left_to_it(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    """The row read before rendering says nothing about why `reserve` then refuses: here another
    run takes the reader (a resend, so the row it holds reads "delivered") while this run builds
    the reader's edition. The skip says the reader is being sent by another run, from the
    reason `reserve` gave, not "already sent" from the row it read."""
    from dltheory_digest.store.locks import this_process

    box, port = mailbox
    ledger.record_delivery(
        store, week=WEEK, reader="li@example.org", message_id="<first@example.org>", status="sent",
        attempts=1,
    )  # fmt: skip

    class AnotherRunTakesTheReader(EchoTranslator):
        def translate_many(self, texts, from_code, to_code):  # type: ignore[no-untyped-def]
            # a real reservation, held by a live process (this one) for the whole test
            taken = ledger.reserve(store, week=WEEK, reader="li@example.org", message_id="<r@x>", resend=True)
            assert taken.granted
            return super().translate_many(texts, from_code, to_code)

    [result] = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=[Reader(email="li@example.org", language="zh")],
        smtp=smtp_for(port), resend=True, translator=AnotherRunTakesTheReader(),
    )  # fmt: skip
    row = ledger.get_delivery(store, WEEK, "li@example.org")
    assert row is not None and row.status == "resending" and row.held()
    assert row.holder == this_process(ledger.SENDER_RUN).encode()
    assert result.status == "skipped" and result.skip_reason == "held" and box.received == []
    assert (result.note or "").startswith(f"being sent by another run (process {row.holder_process.pid} on ")  # type: ignore[union-attr]
    assert "already sent" not in (result.note or "")


def test_a_delivery_without_the_ledger_is_refused_before_any_mail(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    readers = [Reader(email="ada@example.org")]
    with pytest.raises(ValueError, match="only a dry run"):
        mail.deliver(None, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port))
    with pytest.raises(ValueError, match="only a dry run"):
        mail.deliver_markdown(None, week=WEEK, markdown="# Digest\n", readers=readers, smtp=smtp_for(port))
    assert box.received == []
    [dry] = mail.deliver(
        None, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port), dry_run=True
    )
    assert dry.status == "dry-run"


def test_the_skip_note_says_what_the_ledger_said() -> None:
    at = dt.datetime(2026, 11, 23, 7, 5, tzinfo=dt.UTC)
    row = ledger.Delivery(WEEK, "ada@example.org", "<m@x>", "sent", 1, None, "zh", at)
    assert mail._skip_note(row, "already-sent") == (
        "already sent 2026-11-23 07:05 UTC (use --resend to send again)"
    )
    stale = dataclasses.replace(row, status="failed")
    assert mail._skip_note(stale, "held") == "being sent by another run (since 2026-11-23 07:05 UTC)"


def test_headers_name_the_reader_and_the_list(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    smtp = smtp_for(port, list_unsubscribe="mailto:unsubscribe@example.org?subject=stop")
    readers = [Reader(email="ada@example.org", name="Ada Lovelace"), Reader(email="bo@example.org")]
    mail.deliver(store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp)
    ada, bo = box.to("ada@example.org")[0], box.to("bo@example.org")[0]
    assert ada["To"].addresses[0].display_name == "Ada Lovelace"
    assert ada["To"].addresses[0].addr_spec == "ada@example.org" and bo["To"] == "bo@example.org"
    assert ada["List-Id"] == "DL theory digest <dltheory-digest.example.org>"
    assert ada["List-Unsubscribe"] == "<mailto:unsubscribe@example.org?subject=stop>"
    plain = mail.build_message(
        markdown="x", html="<p>x</p>", subject="s", sender="a@example.org", to="b@example.org",
        message_id="<m@example.org>",
    )  # fmt: skip
    assert plain["List-Unsubscribe"] is None and plain["References"] is None


def test_an_https_unsubscribe_is_one_click_and_names_each_reader(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    smtp = smtp_for(
        port,
        list_unsubscribe="mailto:leave@example.org?subject=unsubscribe%20{email}, https://example.org/u?who={email}",
    )
    readers = [Reader(email="ada+digest@example.org", name="Ada"), Reader(email="bo@example.org")]
    mail.deliver(store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp)
    ada, bo = box.to("ada+digest@example.org")[0], box.to("bo@example.org")[0]
    # a long header is folded: it may start on the next line
    assert ada["List-Unsubscribe"].strip() == (
        "<mailto:leave@example.org?subject=unsubscribe%20ada%2Bdigest@example.org>, "
        "<https://example.org/u?who=ada%2Bdigest%40example.org>"
    )
    assert bo["List-Unsubscribe"].strip() == (
        "<mailto:leave@example.org?subject=unsubscribe%20bo@example.org>, "
        "<https://example.org/u?who=bo%40example.org>"
    )
    # RFC 8058: with an https: URI the provider may unsubscribe in one click (a POST to it)
    assert ada["List-Unsubscribe-Post"] == bo["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mailto_only = mail.build_message(
        markdown="x", html="<p>x</p>", subject="s", sender="a@example.org", to="b@example.org",
        message_id="<m@example.org>", list_unsubscribe="<mailto:leave@example.org>",
    )  # fmt: skip
    assert mailto_only["List-Unsubscribe"] == "<mailto:leave@example.org>"
    assert mailto_only["List-Unsubscribe-Post"] is None


def test_an_ip_server_makes_address_literals(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    smtp = mail.SmtpSettings._from_values({"host": "127.0.0.1", "port": port})
    assert smtp.mail_from == "dltheory-digest@[127.0.0.1]" and smtp.domain == "[127.0.0.1]"
    assert mail.mail_domain("::1") == "[IPv6:::1]" and mail.mail_domain("mailhost") == "localhost"
    assert mail.mail_domain("smtp.example.org") == "smtp.example.org"
    assert mail.list_id_for("[127.0.0.1]") == "DL theory digest <dltheory-digest.localhost>"
    [result] = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=[Reader(email="ada@example.org")], smtp=smtp
    )
    assert result.status == "sent" and result.message_id.endswith("@[127.0.0.1]>")
    [received] = box.received
    assert received.sender == "dltheory-digest@[127.0.0.1]"
    assert received.message["Message-ID"] == result.message_id


def test_the_subject_has_no_bidi_controls(mailbox: tuple[Mailbox, int], store: Any) -> None:
    box, port = mailbox
    assert mail.clean_subject("a\u202eb\u2066c\u2069 d\u202a\u202c\n e") == "abc d e"
    [result] = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[Reader(email="amal@example.org", language="ar")],
        smtp=smtp_for(port),
        translator=EchoTranslator(),
    )
    subject = box.to("amal@example.org")[0]["Subject"]
    assert result.language == "ar" and "2026-W47" in subject and subject == result.subject
    assert not set(subject) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _html_size(markdown: str) -> int:
    return mail.html_part_size(dg.render_html(markdown))


def test_the_budget_counts_the_html_as_sent_not_as_written() -> None:
    # Gmail clips on the message as it travels: quoted-printable writes each "=" of an attribute
    # as "=3D" and breaks lines, so HTML written under the budget can arrive over it
    digest = sample_digest()
    html = mail.render_edition(digest, dg.ENGLISH).html
    written, sent = len(html.encode("utf-8")), mail.html_part_size(html)
    message = mail.build_message(
        markdown="x", html=html, subject="s", sender="a@example.org", to="b@example.org", message_id="<m@x>"
    )
    assert sent == len(message.get_body(("html",)).get_payload().encode("ascii"))
    assert sent > written
    rendered = mail.render_edition(digest, dg.ENGLISH, html_budget=(written + sent) // 2)
    assert rendered.attachment is not None and mail.html_part_size(rendered.html) <= (written + sent) // 2


def _encoded_size(html: str, cte: str) -> int:
    part = EmailMessage(policy=policy.SMTP)
    part.set_content(html, subtype="html", charset="utf-8", cte=cte)
    return len(str(part.get_payload()).encode("ascii"))


@pytest.mark.parametrize("language", ["ar", "en"])
def test_each_part_goes_in_the_shorter_transfer_encoding(language: str) -> None:
    if language == "ar":
        # an ordinary Arabic edition: English titles, Arabic around them, ~12 % Arabic characters
        line = "- Gradient descent on wide networks, case {} · الانحدار التدريجي على الشبكات\n"
        html = dg.render_html("".join(line.format(n) for n in range(40)), language="ar")
        assert 0.10 < sum(ord(c) > 127 for c in html) / len(html) < 0.13
        expected, other = "base64", "quoted-printable"
    else:
        html = mail.render_edition(sample_digest(), dg.ENGLISH).html
        expected, other = "quoted-printable", "base64"
    message = mail.build_message(
        markdown="x", html=html, subject="s", sender="a@example.org", to="b@example.org", message_id="<m@x>"
    )
    part = message.get_body(("html",))
    assert part is not None and part["Content-Transfer-Encoding"] == expected
    sent = len(str(part.get_payload()).encode("ascii"))
    # the budget counts what is sent, the shorter of the two
    assert mail.html_part_size(html) == sent == _encoded_size(html, expected) < _encoded_size(html, other)
    assert part.get_content().replace("\r\n", "\n") == html


def test_an_oversized_digest_is_shortened_and_the_full_one_attached(
    mailbox: tuple[Mailbox, int], store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Gmail clips HTML past 102 KB and hides the rest; the budget is lowered here so that
    # the sample week is "too big" in the same way a week of hundreds of papers is
    box, port = mailbox
    digest = sample_digest()
    reader = Reader(email="ada@example.org")
    full = dg.render_markdown(dg.filter_for_reader(digest, reader), for_reader=True)
    without_appendix = dg.render_markdown(
        dg.filter_for_reader(digest, reader), shortened=dg.Shortened(f"{WEEK}.md"), for_reader=True
    )
    budget = (_html_size(without_appendix) + _html_size(full)) // 2
    monkeypatch.setattr(mail, "HTML_BUDGET", budget)
    [result] = mail.deliver(store, week=WEEK, digest=digest, readers=[reader], smtp=smtp_for(port))
    assert result.status == "sent"
    message = box.received[0].message
    assert message.get_content_type() == "multipart/mixed"
    body, attached = message.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert attached.get_content_type() == "text/markdown" and attached.get_filename() == f"{WEEK}.md"
    assert str(attached.get_content()).replace("\r\n", "\n") == full  # the whole digest, appendix too
    plain, html = text_of(message), text_of(message, "html")
    assert plain == dg.render_plain_text(without_appendix) and mail.html_part_size(html) <= budget
    assert f"listed in {WEEK}.md" in plain and "<details>" not in plain
    assert "### " in plain  # the papers keep their summaries
    assert f"the full digest is attached as {WEEK}.md" in html


def test_when_dropping_the_appendix_is_not_enough_each_paper_gets_one_line() -> None:
    digest = sample_digest()
    full = dg.render_markdown(digest, for_reader=True)
    rendered = mail.render_edition(digest, dg.ENGLISH, html_budget=1_000)
    assert rendered.attachment == (f"{WEEK}.md", full)
    assert "### " not in rendered.markdown and "\n- [Neural Tangent Kernel: Convergence" in rendered.markdown
    summary = next(p.summary for s in digest.sections for p in s.papers if p.summary)
    assert summary in full and summary not in rendered.markdown
    # a week within the budget is sent whole, with nothing attached
    whole = mail.render_edition(digest, dg.ENGLISH)
    assert whole.attachment is None and whole.markdown == full


def _big_week(papers: int) -> Any:
    """The sample week plus `papers` made-up arXiv papers spread over three directions."""
    from dltheory_digest.models import Classification, PaperCluster

    inputs = sample_inputs()
    template = inputs["clusters"][1]  # a new arXiv paper with a summary
    directions = ["optimization", "generalization", "kernels"]
    clusters, classifications = list(inputs["clusters"]), dict(inputs["classifications"])
    for n in range(papers):
        arxiv_id = f"2611.{20000 + n}"
        paper = dataclasses.replace(
            template.paper,
            key=f"arxiv:{arxiv_id}",
            arxiv_id=arxiv_id,
            title=f"Feature learning in wide two-layer networks, case {n}: rates and scaling limits",
        )
        sightings = tuple(
            dataclasses.replace(s, url=f"https://arxiv.org/abs/{arxiv_id}") for s in template.sightings[:1]
        )
        clusters.append(PaperCluster(paper=paper, sightings=sightings, versions=(1,)))
        classifications[paper.key] = Classification(directions[n % 3], relevance=0.4 + (n % 50) / 100)
    inputs["clusters"], inputs["classifications"] = clusters, classifications
    return dg.build_digest(**inputs)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_week_of_hundreds_of_papers_fits_the_budget_with_its_most_relevant_papers(language: str) -> None:
    digest = _big_week(600)
    edition = mail._EditionMaker(EchoTranslator()).edition(digest, language)
    rendered = mail.render_edition(digest, edition)
    # one line per paper is still too much for 600 papers: each direction keeps its top papers
    assert mail.html_part_size(rendered.html) <= mail.HTML_BUDGET
    assert rendered.attachment == (f"{WEEK}.md", dg.render_markdown(digest, edition, for_reader=True))
    for section in digest.sections:
        shown = [p for p in section.papers if f"]({p.paper.abs_url})" in rendered.markdown]
        # in the section's order: new papers first
        at = [rendered.markdown.index(f"]({p.paper.abs_url})") for p in shown]
        assert at == sorted(at)
        # the papers another source brought up (a post, Zhihu, Shamra), then the most relevant
        brought_up = [p for p in section.papers if any(s.announce_type is None for s in p.sightings)]
        assert brought_up and all(p in shown for p in brought_up)
        rest = [p for p in section.papers if p not in brought_up]
        least = min(p.classification.relevance for p in shown if p not in brought_up)
        assert all(p.classification.relevance <= least for p in rest if p not in shown)
        if len(shown) < len(section.papers):
            assert str(len(section.papers) - len(shown)) in rendered.markdown
    if language == "en":
        assert "more, listed in 2026-W47.md; those shown are the ones a post" in rendered.markdown
    assert sum(len(s.papers) for s in digest.sections) > 600
    assert_inert(rendered.html)


def test_a_shortened_mail_keeps_as_many_papers_per_direction_as_fit_in_a_few_more_renderings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = _big_week(600)
    render = dg.render_markdown

    def html_at(limit: int) -> str:
        shortened = dg.Shortened(f"{WEEK}.md", one_line=True, limit=limit)
        markdown = render(digest, shortened=shortened, for_reader=True)
        return dg.render_html(markdown, language="en", title=dg.subject_for(digest))

    # a budget 25 papers per direction exceed and 10 fill only in part: 17 fit, 18 do not
    budget = mail.html_part_size(html_at(17))
    assert mail.html_part_size(html_at(18)) > budget
    limits: list[int | None] = []

    def counted(*args: Any, **kwargs: Any) -> str:
        shortened = kwargs.get("shortened")
        limits.append(shortened.limit if shortened else None)
        return render(*args, **kwargs)

    monkeypatch.setattr(mail.digest_stage, "render_markdown", counted)
    rendered = mail.render_edition(digest, dg.ENGLISH, html_budget=budget)
    assert rendered.html == html_at(17)
    # the whole digest, the lists as counts, one line each, 50, 25, 10: then at most 4 more
    assert limits[:6] == [None, None, None, 50, 25, 10]
    assert 0 < len(limits) - 6 <= mail.SHORTENED_SEARCH_RENDERS
    assert all(10 < n < 25 for n in limits[6:] if n)


def test_an_oversized_stored_markdown_is_attached_as_it_is(
    mailbox: tuple[Mailbox, int], store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = mailbox
    markdown = dg.render_markdown(sample_digest())
    monkeypatch.setattr(mail, "HTML_BUDGET", 1_000)
    mail.deliver_markdown(
        store, week=WEEK, markdown=markdown, readers=[Reader(email="ada@example.org")], smtp=smtp_for(port)
    )
    message = box.received[0].message
    assert text_of(message) == dg.render_plain_text(dg.reader_copy(markdown))
    [attached] = [p for p in message.iter_attachments()]
    assert attached.get_filename() == f"{WEEK}.md"


# --- login and TLS ------------------------------------------------------------------------------


def test_login_and_the_password_never_leaks(store: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    handler = Mailbox()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        good = smtp_for(port, user="digest", password=SecretStr(PASSWORD))
        bad = smtp_for(port, user="digest", password=SecretStr(PASSWORD + "x"))
        ok = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=[Reader(email="a@example.org")], smtp=good
        )
        refused = mail.deliver(
            store,
            week=WEEK,
            digest=sample_digest(),
            readers=[Reader(email="b@example.org")],
            smtp=bad,
            sleep=no_sleep(),
        )
    finally:
        controller.stop()
    assert ok[0].status == "sent" and len(handler.received) == 1
    assert refused[0].status == "failed" and refused[0].attempts == 1  # bad credentials are not retried
    assert "535" in (refused[0].error or "")
    everywhere = " ".join(
        [repr(ok), repr(refused), repr(good), repr(bad), caplog.text, repr(ledger_rows(store))]
    )
    assert PASSWORD not in everywhere
    assert PASSWORD not in handler.received[0].raw.decode("ascii", errors="replace")


def test_scrub_blanks_the_password_in_any_text() -> None:
    smtp = smtp_for(25, user="u", password=SecretStr(PASSWORD))
    import base64

    leaked = f"server said: {PASSWORD} / {base64.b64encode(PASSWORD.encode()).decode()}"
    assert PASSWORD not in smtp.scrub(leaked) and "***" in smtp.scrub(leaked)
    assert PASSWORD not in repr(smtp) and PASSWORD not in str(smtp)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_starttls_with_login(tmp_path: Path, store: Any) -> None:
    cert, key = _self_signed(tmp_path)
    handler = Mailbox()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(cert, key),
        require_starttls=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        smtp = smtp_for(
            port, security="starttls", ca_file=str(cert), user="digest", password=SecretStr(PASSWORD)
        )
        [result] = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=[Reader(email="a@example.org")], smtp=smtp
        )
        untrusted = smtp_for(port, security="starttls")
        [refused] = mail.deliver(
            store,
            week=WEEK,
            digest=sample_digest(),
            readers=[Reader(email="b@example.org")],
            smtp=untrusted,
            sleep=no_sleep(),
        )
    finally:
        controller.stop()
    assert result.status == "sent" and len(handler.received) == 1
    # an unknown certificate is a configuration problem, not a busy server: no retries
    assert (
        refused.status == "failed"
        and refused.attempts == 1
        and "CERTIFICATE" in (refused.error or "").upper()
    )


def test_implicit_ssl(tmp_path: Path, store: Any) -> None:
    cert, key = _self_signed(tmp_path)
    handler = Mailbox()
    port = free_port()
    server_context = _server_context(cert, key)
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_context)
    controller.start()
    try:
        smtp = smtp_for(port, security="ssl", ca_file=str(cert))
        [result] = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=[Reader(email="a@example.org")], smtp=smtp
        )
    finally:
        controller.stop()
    assert result.status == "sent"
    assert handler.received[0].message["Subject"] == "DL theory digest 2026-W47: 4 papers, 1 updated"


# --- settings and ids -----------------------------------------------------------------------------


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("DLTHEORY_SMTP_PORT", "2525")
    monkeypatch.setenv("DLTHEORY_SMTP_USER", "digest")
    monkeypatch.setenv("DLTHEORY_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("DLTHEORY_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("DLTHEORY_MAIL_FROM", "Digest <digest@example.org>")
    smtp = mail.SmtpSettings.from_settings(load_settings())
    assert (smtp.host, smtp.port, smtp.user, smtp.security) == (
        "smtp.example.org",
        2525,
        "digest",
        "starttls",
    )
    assert smtp.password is not None and smtp.password.get_secret_value() == PASSWORD
    assert smtp.domain == "example.org" and PASSWORD not in repr(smtp)


def test_default_ports_and_missing_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("DLTHEORY_SMTP_SECURITY", "ssl")
    assert mail.SmtpSettings.from_settings(load_settings()).port == 465
    monkeypatch.delenv("DLTHEORY_SMTP_HOST")
    with pytest.raises(ConfigError, match="DLTHEORY_SMTP_HOST"):
        mail.SmtpSettings.from_settings(load_settings())


def test_a_fresh_ledger_never_reuses_a_message_id(mailbox: tuple[Mailbox, int], tmp_path: Path) -> None:
    # `demo --email-to` mails from a temporary store; a real run (or a store started afresh) to
    # the same reader must not carry the same id, or the client drops the real digest unseen
    box, port = mailbox
    ada = [Reader(email="ada@example.org")]
    sent = []
    for name in ("demo", "real"):
        store = open_store(f"sqlite:///{tmp_path / name}.sqlite")
        sent += mail.deliver(store, week=WEEK, digest=sample_digest(), readers=ada, smtp=smtp_for(port))
        store.close()
    assert [r.status for r in sent] == ["sent", "sent"]
    assert len({m.message["Message-ID"] for m in box.received}) == 2


def test_message_id_is_stable_per_week_and_reader() -> None:
    first = mail.message_id_for(WEEK, "Ada@Example.org", "example.org")
    assert first == mail.message_id_for(WEEK, "ada@example.org", "example.org")
    assert first != mail.message_id_for(WEEK, "bo@example.org", "example.org")
    assert first != mail.message_id_for("2026-W48", "ada@example.org", "example.org")
    assert first.startswith("<dltheory-digest.2026-W47.") and first.endswith("@example.org>")
    assert "ada" not in first  # the address is hashed


def test_build_message_round_trips_utf8() -> None:
    message = mail.build_message(
        markdown="# 标题\n\nمرحبا بالعالم\n",
        html="<p>标题 مرحبا</p>",
        subject="周报 2026-W47 · موجز",
        sender="Digest <digest@example.org>",
        to="reader@example.org",
        message_id="<x@example.org>",
    )
    raw = message.as_bytes()
    assert max(raw) < 128  # 7-bit on the wire: any relay accepts it
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "周报 2026-W47 · موجز"
    assert text_of(parsed) == "# 标题\n\nمرحبا بالعالم\n"


def test_smtp_errors_are_classified() -> None:
    assert mail._is_transient(smtplib.SMTPRecipientsRefused({"a@x": (451, b"later")}))
    assert not mail._is_transient(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no")}))
    assert mail._is_transient(smtplib.SMTPServerDisconnected("gone"))
    assert not mail._is_transient(smtplib.SMTPAuthenticationError(535, b"bad"))
    assert mail._is_transient(ConnectionRefusedError(111, "refused"))


# --- a real (tiny) argos model ---------------------------------------------------------------------


@pytest.mark.slow
def test_zh_edition_through_a_real_argos_model(
    mailbox: tuple[Mailbox, int], store: Any, tmp_path: Path
) -> None:
    """The language stage's Translator with a tiny but real en→zh package: the real loading,
    splitting and decoding run, and its random weights produce runaway gibberish, which the
    edition must not ship: it falls back to English and names the model it refused."""
    from dltheory_digest.language import Translator, install_from_file
    from tests.argos_tiny import build_tiny_package

    packages = tmp_path / "argos-packages"
    install_from_file(build_tiny_package(tmp_path / "build", "en", "zh", version="0.3"), packages)
    translator = Translator(packages_dir=packages)
    box, port = mailbox
    [result] = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[Reader(email="li@example.org", language="zh")],
        smtp=smtp_for(port),
        translator=translator,
    )
    assert translator.stats.new > 0  # the model really ran
    assert result.status == "sent" and result.language == "en" and result.translated_by is None
    assert "argos en→zh 0.3" in (result.note or "") and "; in English" in (result.note or "")
    text = text_of(box.to("li@example.org")[0])
    assert text.startswith("# Deep-learning theory digest 2026-W47")
    assert dg.labels_for("zh")["untranslated"] in text and "Chinese edition requested" not in text
    assert "We show that gradient descent reaches zero training loss" in text


def test_runaway_translations_are_dropped_one_by_one() -> None:
    class HalfBroken:
        def translate_many(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
            return [("梯度" * 500) if "Generalization" in t else f"译:{t}" for t in texts]

    digest = sample_digest()
    edition = mail._EditionMaker(HalfBroken()).edition(digest, "zh")
    assert edition.translations and edition.model
    assert "Generalization" not in edition.translations  # stays in English
    assert edition.translations["Optimization and implicit bias"] == "译:Optimization and implicit bias"


def test_translated_summary_keeps_its_formula() -> None:
    class DropsMath:
        def translate_many(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
            return [re.sub(r"\$[^$]*\$", "公式", t) for t in texts]

    digest = sample_digest()
    edition = mail._EditionMaker(DropsMath()).edition(digest, "zh")
    summary = next(p.summary for s in digest.sections for p in s.papers if "$" in p.summary)
    assert edition.translations[summary].endswith("($O(1/\\sqrt{n})$)")


def test_a_formula_the_translator_only_respaced_is_not_shown_twice() -> None:
    source = "A rate of $O(1/\\sqrt{n})$ and \\(x + y\\) hold; so does $O(1/\\sqrt{n})$ again."
    respaced = "速率 $O( 1 / \\sqrt{n} )$ 与 \\( x+y \\) 成立；$ O(1/\\sqrt{n}) $ 亦然。"
    assert mail._keep_math(source, respaced) == respaced
    # a formula the model really changed is still appended, once however often the source has it
    changed = respaced.replace("\\sqrt{n}", "n")
    assert mail._keep_math(source, changed) == f"{changed} ($O(1/\\sqrt{{n}})$)"


@dataclass(frozen=True)
class Translated:
    """The shape of the language stage's result."""

    english: str
    model: str | None
    note: str | None = None


def test_an_unusable_edition_does_not_change_the_next_readers() -> None:
    digest = sample_digest()
    kernel = Reader(email="kernel@example.org", language="zh", include_directions=("kernels",))
    plain = Reader(email="li@example.org", language="zh")
    broken = set(dg.translatable_texts(dg.filter_for_reader(digest, kernel)))

    class BreaksTheKernelTexts:
        def translate_many(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
            return [("梯度" * 500) if t in broken else f"译:{t}" for t in texts]

    for order in ([kernel, plain], [plain, kernel]):
        results = mail.deliver(
            None, week=WEEK, digest=digest, readers=order, smtp=smtp_for(25), dry_run=True,
            translator=BreaksTheKernelTexts(),
        )  # fmt: skip
        by_reader = {r.reader: r for r in results}
        assert by_reader["kernel@example.org"].language == "en"
        assert "unusable" in (by_reader["kernel@example.org"].note or "")
        # the plain reader's edition has the same three texts unusable, among 16: it stays zh
        assert by_reader["li@example.org"].language == "zh" and by_reader["li@example.org"].note is None


def test_a_note_on_one_text_leaves_the_edition_translated() -> None:
    class DiscardsOne:
        def translate_many(self, texts: list[str], from_code: str, to_code: str) -> list[Translated]:
            return [
                Translated(t, "argos en→zh 1.9", "discarded: unusable output; kept the original")
                if t == "Generalization"
                else Translated(f"译:{t}", "argos en→zh 1.9")
                for t in texts
            ]

    made = mail._EditionMaker(DiscardsOne()).make(sample_digest(), "zh")
    assert made.reason is None and made.edition.model == "argos en→zh 1.9"
    assert "Generalization" not in made.edition.translations  # stays in English
    assert made.edition.translations["Optimization and implicit bias"] == "译:Optimization and implicit bias"


def test_a_language_without_a_model_is_asked_once() -> None:
    class NoModel:
        calls = 0

        def translate_many(self, texts: list[str], from_code: str, to_code: str) -> list[Translated]:
            NoModel.calls += 1
            return [Translated(t, None, f"untranslated: no en→{to_code} model") for t in texts]

    maker = mail._EditionMaker(NoModel())
    first = maker.make(sample_digest(), "ar")
    second = maker.make(
        dg.filter_for_reader(sample_digest(), Reader(email="a@example.org", keywords=("kernel",))), "ar"
    )
    assert NoModel.calls == 1
    for made in (first, second):
        assert made.edition.translations == {} and "no en→ar model" in (made.reason or "")
        assert made.edition.note == dg.labels_for("ar")["untranslated"]


@pytest.mark.prefect
def test_smtp_settings_from_a_prefect_secret_block(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret

    values = {
        "host": "smtp.example.org",
        "port": 2465,
        "user": "digest",
        "password": PASSWORD,
        "security": "ssl",
    }
    Secret(value=values).save("dltheory-smtp-test", overwrite=True)
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "ignored.example.org")
    monkeypatch.setenv("DLTHEORY_MAIL_FROM", "Digest <digest@example.org>")
    monkeypatch.setenv("DLTHEORY_SMTP_BLOCK", "dltheory-smtp-test")
    smtp = mail.SmtpSettings.from_settings(load_settings())
    assert (smtp.host, smtp.port, smtp.user, smtp.security) == ("smtp.example.org", 2465, "digest", "ssl")
    assert smtp.password is not None and smtp.password.get_secret_value() == PASSWORD
    assert smtp.mail_from == "Digest <digest@example.org>"  # not in the block: from the settings
    assert PASSWORD not in repr(smtp)
    with pytest.raises(ConfigError, match="no-such-block"):
        mail.SmtpSettings.from_block("no-such-block")


def test_an_empty_weeks_zh_edition_claims_no_translation() -> None:
    empty = dataclasses.replace(
        sample_digest(), sections=(), updated=(), emerging=(), below_threshold=(), unconfirmed=(), posts=()
    )
    html = mail.preview_html(
        empty, Reader(email="li@example.org", language="zh"), translator=EchoTranslator()
    )
    assert "en→zh" not in html and "由英文机器翻译" not in html


def test_an_edition_whose_filters_match_nothing_is_in_the_readers_language_without_a_model(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    filters = {"include_directions": ("kernels",), "keywords": ("diffusion",)}
    results = mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[
            Reader(email="li@example.org", language="zh", **filters),
            Reader(email="amal@example.org", language="ar", **filters),
        ],
        smtp=smtp_for(port),
        translator=None,  # nothing is left to translate: the labels are hand-written
    )
    assert [(r.status, r.language, r.translated_by, r.note) for r in results] == [
        ("sent", "zh", None, None),
        ("sent", "ar", None, None),
    ]
    zh = text_of(box.to("li@example.org")[0])
    assert "本周 4 篇论文中没有符合您筛选条件的论文（方向：" in zh and "关键词：“diffusion”" in zh
    assert dg.labels_for("zh")["untranslated"] not in zh
    arabic = box.to("amal@example.org")[0]
    assert "«diffusion»" in text_of(arabic)
    html = next(p for p in arabic.walk() if p.get_content_type() == "text/html").get_content()
    assert 'dir="rtl"' in html


# --- talks and courses ----------------------------------------------------------------------------


def test_a_readers_mail_lists_the_talks_and_courses_their_keywords_choose(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    readers = [
        Reader(email="li@example.org", language="zh", keywords=["neural tangent kernel", "lecture series"]),
        Reader(email="ada@example.org", negative_keywords=["beginners"]),
    ]
    results = mail.deliver(
        store,
        week=WEEK,
        digest=digest_with_talks(),
        readers=readers,
        smtp=smtp_for(port),
        translator=EchoTranslator(),
    )
    assert [r.status for r in results] == ["sent", "sent"]
    li = text_of(box.to("li@example.org")[0], "html")
    assert "新增讲座与课程 (2)" in li and "神经正切核讲座" in li and '译:<span lang="en">Stats 385' in li
    ada = text_of(box.to("ada@example.org")[0], "html")
    assert "New talks and courses (1)" in ada and "Stats 385" in ada and "神经正切核讲座" not in ada
    assert_inert(li)


def test_a_shortened_mail_keeps_the_talks_one_line_each_and_counts_a_lists_backlog() -> None:
    backlog = [
        dataclasses.replace(
            talk, title=f"{topic} lectures", url=f"https://www.youtube.com/results?search_query={topic}"
        )
        for talk in digest_with_talks().resources[:1]
        for topic in ("grokking", "double+descent", "scaling+laws", "mean+field", "implicit+bias", "kernels")
    ]
    digest = dataclasses.replace(digest_with_talks(), resource_backlog=tuple(backlog))
    full = mail.render_edition(digest, dg.ENGLISH)
    assert full.attachment is None and "grokking lectures" in full.markdown
    rendered = mail.render_edition(digest, dg.ENGLISH, html_budget=mail.html_part_size(full.html) - 1)
    assert rendered.attachment is not None
    assert "## New talks and courses (2)" in rendered.markdown
    assert (
        "Talks and courses brought in at once by one list (6):** listed in 2026-W47.md." in rendered.markdown
    )
    assert "grokking lectures" not in rendered.markdown


def test_the_demo_mail_says_it_is_the_demo_in_its_subject_and_first_lines(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    readers = [Reader(email="ada@example.org"), Reader(email="li@example.org", language="zh")]
    results = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port),
        translator=EchoTranslator(), demo=True,
    )  # fmt: skip
    assert [r.status for r in results] == ["sent", "sent"]
    for address, language in (("ada@example.org", "en"), ("li@example.org", "zh")):
        labels = dg.labels_for(language)
        message = box.to(address)[0]
        assert str(message["Subject"]).startswith(f"{labels['demo_subject']} ")
        # the first thing under the title, in the text part and in the HTML part
        plain = text_of(message).split("\n")
        assert plain[0].startswith("# ") and plain[2] == f"**{labels['demo_note']}**"
        html = text_of(message, "html")
        assert labels["demo_note"] in html
        assert html.index(labels["demo_note"]) < html.index(labels["window"])
    assert box.to("li@example.org")[0]["Subject"].startswith("[演示] ")
    # the real week's mail says nothing of the kind
    real = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers[:1], smtp=smtp_for(port), resend=True
    )
    message = box.to("ada@example.org")[-1]
    assert real[0].status == "sent" and not str(message["Subject"]).startswith("[demo]")
    assert dg.labels_for("en")["demo_note"] not in text_of(message)


def test_a_dry_run_and_a_preview_do_not_say_an_edition_was_sent(store: Any) -> None:
    amal = Reader(email="amal@example.org", language="ar")
    (result,) = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=[amal], smtp=mail.SmtpSettings(host="127.0.0.1", port=9),
        dry_run=True,
    )  # fmt: skip
    assert result.status == "dry-run"
    assert (result.note or "").startswith("Arabic edition requested; ") and "sent" not in (result.note or "")
    assert (result.note or "").endswith("; in English")


def test_a_readers_chinese_keyword_finds_english_papers_through_the_operators_glossary() -> None:
    from dltheory_digest.language.glossary import Glossary

    class GlossaryTranslator(EchoTranslator):
        # the operator's glossary_file: a term the shipped glossary does not have
        glossary = Glossary(terms={"zh": (("过参数化优化", "over-parameterized neural networks"),)})

    reader = Reader(email="li@example.org", keywords=("过参数化优化",))
    with_glossary = mail.preview_html(sample_digest(), reader, translator=GlossaryTranslator())
    assert "Gradient Descent Provably Optimizes" in with_glossary
    assert "Neural Tangent Kernel: Convergence" not in with_glossary
    # without the operator's glossary the keyword is only looked for as written: nothing matches
    assert "Gradient Descent Provably Optimizes" not in mail.preview_html(sample_digest(), reader)


class RunsAway:
    """An en→zh model whose every output is a runaway repetition, as a broken model gives."""

    def translate_many(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
        return ["梯度" * 500 for _ in texts]


def test_a_zh_reader_sent_english_is_not_reported_as_a_plain_sent(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    [result] = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=[Reader(email="lin@example.org", language="zh")],
        smtp=smtp_for(port), translator=RunsAway(),
    )  # fmt: skip
    assert result.status == "sent" and result.language == "en" and len(box.received) == 1
    assert result.status_text == "sent, in English: the zh translation was unusable"
    report = mail.delivery_report([result])
    assert "| lin@example.org | sent, in English: the zh translation was unusable | en |" in report
    # the run's result is a dict (the flow returns it): the field survives the trip
    assert dataclasses.asdict(result)["fallback"] == "the zh translation was unusable"
    # a zh edition that went out in Chinese, and an English reader, stay a plain "sent"
    assert mail.status_text("sent", None) == "sent"
    assert mail.DeliveryResult("a@example.org", WEEK, "failed", "", fallback="x").status_text == "failed"


def test_without_a_model_the_status_says_so_and_a_forced_markdown_says_why() -> None:
    [no_model] = mail.deliver(
        None, week=WEEK, digest=sample_digest(), readers=[Reader(email="amal@example.org", language="ar")],
        smtp=smtp_for(25), dry_run=True, translator=None,
    )  # fmt: skip
    assert no_model.status_text == "dry-run, in English: no usable en→ar translation model"
    [forced] = mail.deliver_markdown(
        None, week=WEEK, markdown="# Digest\n", readers=[Reader(email="lin@example.org", language="zh")],
        smtp=smtp_for(25), dry_run=True, force=True,
    )  # fmt: skip
    assert forced.status_text == "dry-run, in English: only the week's Markdown is kept"


def _without_translated_titles(digest: Any) -> Any:
    """`digest` as if every zh/ar title translation had been discarded: the originals only."""

    def plain(papers: Any) -> tuple[Any, ...]:
        return tuple(dataclasses.replace(p, english_title=None) for p in papers)

    return dataclasses.replace(
        digest,
        sections=tuple(dataclasses.replace(s, papers=plain(s.papers)) for s in digest.sections),
        updated=plain(digest.updated), emerging=plain(digest.emerging),
        below_threshold=plain(digest.below_threshold), unconfirmed=plain(digest.unconfirmed),
        backlog=plain(digest.backlog),
    )  # fmt: skip


def test_the_footer_credits_only_the_models_whose_outputs_the_edition_shows(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    shown = sample_digest()
    assert shown.models == (("argos zh→en", "1.9"),)
    # every output of zh→en (and of an ar→en model) was discarded: the texts stayed as written
    discarded = dataclasses.replace(
        _without_translated_titles(shown), models=(("argos ar→en", "0.1"), ("argos zh→en", "0.1"))
    )
    assert mail.models_used(discarded).models == ()
    mail.deliver(
        store, week=WEEK, digest=discarded, readers=[Reader(email="ada@example.org")], smtp=smtp_for(port)
    )
    text = text_of(box.to("ada@example.org")[0])
    assert "Translation models" not in text and "argos" not in text
    # a title shown in its translation credits the model of its language
    assert mail.models_used(shown).models == (("argos zh→en", "1.9"),)
    assert "Translation models: argos zh→en 1.9" in mail.preview_html(shown, Reader(email="bo@example.org"))
    # so does a comment translated by it (`translated_by` names model and version)
    paper = shown.sections[0].papers[0]
    comment = with_translated_comment(paper, "argos ar→en 0.1")
    commented = dataclasses.replace(
        discarded,
        sections=(dataclasses.replace(discarded.sections[0], papers=(comment,)), *discarded.sections[1:]),
    )
    assert mail.models_used(commented).models == (("argos ar→en", "0.1"),)


def with_translated_comment(paper: Any, model: str) -> Any:
    """`paper` with one more sighting whose comment `model` translated."""
    from dltheory_digest.models import Sighting

    seen = Sighting(
        source_id="shamra", source_name="Shamra Academia", url=None, lang="ar",
        commentary="A comment", commentary_original="تعليق", commentary_lang="ar", translated_by=model,
    )  # fmt: skip
    return dataclasses.replace(paper, english_title=None, sightings=(*paper.sightings, seen))


def test_a_skipped_reader_shows_no_paper_count_and_the_time_in_the_digests_zone(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    box, port = mailbox
    kiritimati = dataclasses.replace(sample_digest(), timezone="Pacific/Kiritimati")
    readers = [Reader(email="ada@example.org")]
    [first] = mail.deliver(store, week=WEEK, digest=kiritimati, readers=readers, smtp=smtp_for(port))
    assert first.papers and first.papers > 0
    [again] = mail.deliver(store, week=WEEK, digest=kiritimati, readers=readers, smtp=smtp_for(port))
    assert again.status == "skipped" and again.papers is None
    assert mail.papers_text(again.status, again.papers) == "—"
    assert "| ada@example.org | skipped | en | — |" in mail.delivery_report([again])
    sent_at = ledger.get_delivery(store, WEEK, "ada@example.org").updated_at  # type: ignore[union-attr]
    local = sent_at.astimezone(ZoneInfo("Pacific/Kiritimati"))
    assert again.note == (
        f"already sent {local:%Y-%m-%d %H:%M} Pacific/Kiritimati (UTC+14:00) (use --resend to send again)"
    )
    assert len(box.received) == 1


def test_local_time_names_the_zone_and_its_offset() -> None:
    at = dt.datetime(2026, 11, 23, 7, 5, tzinfo=dt.UTC)
    assert (
        mail.local_time(at, ZoneInfo("Pacific/Kiritimati"))
        == "2026-11-23 21:05 Pacific/Kiritimati (UTC+14:00)"
    )
    assert (
        mail.local_time(at, ZoneInfo("America/St_Johns")) == "2026-11-23 03:35 America/St_Johns (UTC-03:30)"
    )
    assert mail.local_time(at, None) == mail.local_time(at, ZoneInfo("UTC")) == "2026-11-23 07:05 UTC"
    assert mail.local_time(at.replace(tzinfo=None)) == "2026-11-23 07:05 UTC"  # the store's naive UTC


# --- a lost answer, a dead sender, a refused sender (operator review, session 11) ---------------


@dataclass
class SlowMailbox(Mailbox):
    """Keeps the message, then answers DATA (or QUIT, or RCPT once) only after `delay` seconds:
    longer than the client waits."""

    delay: float = 3.0
    slow_data: bool = False
    slow_quit: bool = False
    slow_rcpt_once: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.slow_rcpt_once:
            self.slow_rcpt_once.discard(address)
            await asyncio.sleep(self.delay)
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)  # delivered, whatever follows
        if self.slow_data:
            await asyncio.sleep(self.delay)
        return answer

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        if self.slow_quit:
            await asyncio.sleep(self.delay)
        return "221 Bye"


@pytest.fixture
def slow_mailbox() -> Iterator[tuple[SlowMailbox, int]]:
    handler = SlowMailbox()
    with serving(handler) as port:
        yield handler, port


def test_a_timeout_after_data_is_not_retried_and_is_recorded_as_maybe_delivered(
    slow_mailbox: tuple[SlowMailbox, int], store: Any
) -> None:
    box, port = slow_mailbox
    box.slow_data = True
    readers = [Reader(email="ada@example.org"), Reader(email="bo@example.org")]
    waits: list[float] = []
    results = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port, timeout=1.0),
        sleep=no_sleep(waits),
    )  # fmt: skip
    ada, bo = results
    # one copy reached the server; no second try could add another
    assert len(box.to("ada@example.org")) == 1 and waits == [] and ada.attempts == 1
    assert ada.status == "unconfirmed" and not ada.ok and ada.server_down == mail.SERVER_FAILED
    assert "may have been delivered" in (ada.error or "") and ada.message_id in (ada.error or "")
    assert f"send --week {WEEK} --resend --to ada@example.org" in (ada.error or "")
    # the server stopped answering: the next reader is not kept waiting as long
    assert bo.status == "failed" and bo.server_down == mail.NOT_TRIED and box.to("bo@example.org") == []
    assert "timed out" in (bo.error or "") and "may have been delivered" not in (bo.error or "")
    rows = {r["reader"]: r for r in ledger_rows(store)}
    assert rows["ada@example.org"]["status"] == "unconfirmed" and rows["bo@example.org"]["status"] == "failed"
    assert rows["ada@example.org"]["holder"] is None  # no longer held by this run

    # the next plain run mails the reader not tried, and not the one who may have it
    box.slow_data = False
    again = mail.deliver(store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port))
    assert [r.status for r in again] == ["skipped", "sent"]
    assert again[0].skip_reason == "unconfirmed" and again[0].ok
    assert "answer was never recorded" in (again[0].note or "") and ada.message_id in (again[0].note or "")
    assert len(box.to("ada@example.org")) == 1
    # --resend sends it with the same Message-ID, so a client that has the first copy drops it
    [resent] = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers[:1], smtp=smtp_for(port), resend=True
    )
    assert resent.status == "sent" and resent.message_id == ada.message_id
    assert [m["Message-ID"] for m in box.to("ada@example.org")] == [ada.message_id] * 2
    assert ledger.get_delivery(store, WEEK, "ada@example.org").status == "sent"  # type: ignore[union-attr]


def test_a_timeout_before_data_is_retried(slow_mailbox: tuple[SlowMailbox, int], store: Any) -> None:
    box, port = slow_mailbox
    box.slow_rcpt_once.add("ada@example.org")
    waits: list[float] = []
    [result] = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=[Reader(email="ada@example.org")],
        smtp=smtp_for(port, timeout=1.0), sleep=no_sleep(waits),
    )  # fmt: skip
    assert result.status == "sent" and result.attempts == 2 and waits == [2.0]
    assert len(box.to("ada@example.org")) == 1


def test_a_server_that_stops_answering_before_data_is_not_waited_for_again_for_the_next_reader(
    slow_mailbox: tuple[SlowMailbox, int], store: Any
) -> None:
    box, port = slow_mailbox
    box.slow_rcpt_once.add("ada@example.org")
    waits: list[float] = []
    results = mail.deliver(
        store, week=WEEK, digest=sample_digest(),
        readers=[Reader(email="ada@example.org"), Reader(email="bo@example.org")],
        smtp=smtp_for(port, timeout=1.0), retries=0, sleep=no_sleep(waits),
    )  # fmt: skip
    ada, bo = results
    assert ada.status == "failed" and "timed out" in (ada.error or "") and ada.attempts == 1
    assert (ada.server_down, bo.server_down, bo.attempts) == (mail.SERVER_FAILED, mail.NOT_TRIED, 0)
    assert box.received == []  # nothing was handed over: both are tried again by the next run
    assert {r["status"] for r in ledger_rows(store)} == {"failed"}


def test_a_lost_goodbye_after_the_message_was_accepted_is_a_delivery(
    slow_mailbox: tuple[SlowMailbox, int], store: Any
) -> None:
    box, port = slow_mailbox
    box.slow_quit = True
    waits: list[float] = []
    [result] = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=[Reader(email="ada@example.org")],
        smtp=smtp_for(port, timeout=1.0), sleep=no_sleep(waits),
    )  # fmt: skip
    assert result.status == "sent" and result.attempts == 1 and waits == []
    assert len(box.to("ada@example.org")) == 1


def _holder_of_a_process_gone() -> str:
    import subprocess
    import sys

    from dltheory_digest.store.locks import this_process

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # exited and reaped: its pid names no process
    here = this_process(ledger.SENDER_RUN)
    return dataclasses.replace(here, pid=child.pid, started=None).encode()


def test_a_reader_whose_sending_process_died_is_taken_over_at_once(
    mailbox: tuple[Mailbox, int], store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    box, port = mailbox
    # a run SIGKILLed mid-send a minute ago left the row `sending`
    ledger.record_delivery(
        store, week=WEEK, reader="lin@example.org", message_id="<killed@example.org>", status="sending",
        attempts=0, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1), holder=_holder_of_a_process_gone(),
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="dltheory_digest.store.deliveries"):
        [result] = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=[Reader(email="lin@example.org")],
            smtp=smtp_for(port),
        )  # fmt: skip
    assert result.status == "sent" and len(box.to("lin@example.org")) == 1
    # the same Message-ID as the killed run's try, so a copy it got out is not shown twice
    assert result.message_id == "<killed@example.org>"
    assert "no longer exists" in caplog.text
    row = ledger.get_delivery(store, WEEK, "lin@example.org")
    assert row is not None and row.status == "sent" and row.holder is None


def test_a_reader_another_live_run_is_sending_to_is_not_success(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    from dltheory_digest.store.locks import this_process

    box, port = mailbox
    alive = this_process(ledger.SENDER_RUN)  # this very process: alive
    since = dt.datetime.now(dt.UTC)
    ledger.record_delivery(
        store, week=WEEK, reader="lin@example.org", message_id="<busy@example.org>", status="sending",
        attempts=0, at=since, holder=alive.encode(),
    )  # fmt: skip
    readers = [Reader(email="lin@example.org"), Reader(email="ada@example.org")]
    lin, ada = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port),
        zone=ZoneInfo("Asia/Shanghai"),
    )  # fmt: skip
    assert (lin.status, ada.status) == ("skipped", "sent") and box.to("lin@example.org") == []
    # not mailed by this run, and nothing says the other run will manage: not a success
    assert lin.skip_reason == "held" and lin.pending and not lin.ok and ada.ok
    local = since.astimezone(ZoneInfo("Asia/Shanghai"))
    assert lin.note == (
        f"being sent by another run (process {alive.pid} on {alive.host}, "
        f"since {local:%Y-%m-%d %H:%M} Asia/Shanghai (UTC+08:00))"
    )


def test_a_server_that_requires_starttls_stops_after_the_first_reader_naming_the_setting(
    tmp_path: Path, store: Any
) -> None:
    cert, key = _self_signed(tmp_path)
    handler = Mailbox()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(cert, key),
        require_starttls=True,
    )
    controller.start()
    readers = [Reader(email=a) for a in ("ada@example.org", "lin@example.org", "kai@example.org")]
    waits: list[float] = []
    try:
        with pytest.raises(mail.ServerUnavailable, match="smtp_security: starttls"):
            mail.check_server(smtp_for(port))  # before any fetch: nothing is sent
        mail.check_server(smtp_for(port, security="starttls", ca_file=str(cert)))  # passes
        results = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(port),
            sleep=no_sleep(waits),
        )  # fmt: skip
    finally:
        controller.stop()
    first, *rest = results
    assert first.status == "failed" and first.attempts == 1 and waits == []
    assert "530" in (first.error or "") and "set `smtp_security: starttls`" in (first.error or "")
    assert first.server_down == mail.SERVER_FAILED
    assert [(r.status, r.server_down, r.attempts) for r in rest] == [("failed", mail.NOT_TRIED, 0)] * 2
    assert handler.received == []


@dataclass
class PickyMailbox(Mailbox):
    """Refuses the sender at MAIL FROM."""

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return "550 5.7.1 sender not allowed to relay"


def test_a_refused_sender_stops_after_the_first_reader(store: Any) -> None:
    handler = PickyMailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        results = mail.deliver(
            store, week=WEEK, digest=sample_digest(),
            readers=[Reader(email="ada@example.org"), Reader(email="bo@example.org")], smtp=smtp_for(port),
            sleep=no_sleep(),
        )  # fmt: skip
    finally:
        controller.stop()
    assert [(r.status, r.server_down) for r in results] == [
        ("failed", mail.SERVER_FAILED),
        ("failed", mail.NOT_TRIED),
    ]
    assert "550" in (results[0].error or "") and "check `mail_from`" in (results[0].error or "")
    assert results[0].attempts == 1


def test_a_failed_login_stops_after_the_first_reader_naming_the_settings(store: Any) -> None:
    handler = Mailbox()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        results = mail.deliver(
            store, week=WEEK, digest=sample_digest(),
            readers=[Reader(email="ada@example.org"), Reader(email="bo@example.org")],
            smtp=smtp_for(port, user="digest", password=SecretStr("wrong")), sleep=no_sleep(),
        )  # fmt: skip
    finally:
        controller.stop()
    assert [r.server_down for r in results] == [mail.SERVER_FAILED, mail.NOT_TRIED]
    assert "check `smtp_user` and `smtp_password`" in (results[0].error or "")


def test_smtp_ca_file_is_a_setting_that_trusts_a_private_ca(
    tmp_path: Path, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dltheory_digest.config import Settings

    cert, key = _self_signed(tmp_path)
    handler = Mailbox()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(cert, key),
        require_starttls=True,
    )
    controller.start()
    monkeypatch.delenv(mail.SMTP_BLOCK_ENV, raising=False)
    base = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "starttls"}
    try:
        smtp = mail.SmtpSettings.from_settings(Settings(**base, smtp_ca_file=cert))  # type: ignore[arg-type]
        assert smtp.ca_file == str(cert)
        [sent] = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=[Reader(email="ada@example.org")], smtp=smtp
        )
        untrusted = mail.SmtpSettings.from_settings(Settings(**base))  # type: ignore[arg-type]
        [refused] = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=[Reader(email="bo@example.org")],
            smtp=untrusted, sleep=no_sleep(),
        )  # fmt: skip
    finally:
        controller.stop()
    assert sent.status == "sent" and len(handler.received) == 1
    assert refused.status == "failed" and "set `smtp_ca_file`" in (refused.error or "")
    with pytest.raises(ConfigError, match="smtp_ca_file"):
        mail.SmtpSettings.from_settings(Settings(**base, smtp_ca_file=tmp_path / "missing.pem"))  # type: ignore[arg-type]


def test_a_relative_smtp_ca_file_is_read_from_the_settings_files_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, _key = _self_signed(tmp_path)
    settings_file = tmp_path / "dltheory.yaml"
    settings_file.write_text("smtp_host: 127.0.0.1\nsmtp_security: starttls\nsmtp_ca_file: cert.pem\n")
    monkeypatch.chdir(tmp_path.parent)  # cron starts elsewhere
    monkeypatch.delenv(mail.SMTP_BLOCK_ENV, raising=False)
    monkeypatch.setenv("DLTHEORY_SETTINGS_FILE", str(settings_file))
    settings = load_settings()
    assert mail.SmtpSettings.from_settings(settings).ca_file == str(cert)


def test_the_skip_note_uses_the_zone_given_over_the_digests_own(
    mailbox: tuple[Mailbox, int], store: Any
) -> None:
    """A week kept as sent keeps the zone it was built in (UTC here); the operator's configured
    zone, passed as `zone`, is the one the note speaks in (pipeline.deliver_week passes it)."""
    box, port = mailbox
    built_in_utc = dataclasses.replace(sample_digest(), timezone="UTC")
    readers = [Reader(email="ada@example.org")]
    mail.deliver(store, week=WEEK, digest=built_in_utc, readers=readers, smtp=smtp_for(port))
    [again] = mail.deliver(
        store, week=WEEK, digest=built_in_utc, readers=readers, smtp=smtp_for(port),
        zone=ZoneInfo("Asia/Shanghai"),
    )  # fmt: skip
    sent_at = ledger.get_delivery(store, WEEK, "ada@example.org").updated_at  # type: ignore[union-attr]
    local = sent_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert again.note == (
        f"already sent {local:%Y-%m-%d %H:%M} Asia/Shanghai (UTC+08:00) (use --resend to send again)"
    )
    assert len(box.received) == 1


def test_which_results_count_as_success() -> None:
    def result(status: str, skip_reason: str | None = None) -> mail.DeliveryResult:
        return mail.DeliveryResult(
            reader="a@x.org", week=WEEK, status=status, message_id="<m@x>", skip_reason=skip_reason
        )

    assert result("sent").ok and result("dry-run").ok
    assert result("skipped", "already-sent").ok and result("skipped", "unconfirmed").ok
    assert not result("skipped", "held").ok and result("skipped", "held").pending
    assert not result("unconfirmed").ok and not result("failed").ok and not result("held").ok


def test_tls_spoken_to_a_plain_text_server_is_a_settings_refusal_not_a_busy_server(store: Any) -> None:
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)  # plain text, no TLS
    controller.start()
    waits: list[float] = []
    try:
        with pytest.raises(mail.ServerUnavailable) as refused:
            mail.check_server(smtp_for(port, security="ssl", timeout=5))
        [result] = mail.deliver(
            store, week=WEEK, digest=sample_digest(), readers=[Reader(email="a@example.org")],
            smtp=smtp_for(port, security="ssl", timeout=5), sleep=no_sleep(waits),
        )  # fmt: skip
    finally:
        controller.stop()
    # every try would fail the same way: no retries, and the setting to change is named
    assert refused.value.transient is False
    assert "set `smtp_security: starttls`" in refused.value.reason
    assert result.status == "failed" and result.attempts == 1 and waits == []
    assert handler.received == []


def test_a_server_that_offers_login_only_after_starttls_names_the_security_setting(
    tmp_path: Path, store: Any
) -> None:
    # Postfix with smtpd_tls_auth_only, Office 365, Gmail on 587: AUTH is offered after STARTTLS only
    cert, key = _self_signed(tmp_path)
    port = free_port()
    controller = Controller(
        Mailbox(),
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(cert, key),
        require_starttls=False,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    controller.start()
    login = {"user": "digest", "password": SecretStr(PASSWORD)}
    try:
        with pytest.raises(mail.ServerUnavailable) as refused:
            mail.check_server(smtp_for(port, **login))
        mail.check_server(smtp_for(port, security="starttls", ca_file=str(cert), **login))  # passes
    finally:
        controller.stop()
    assert "SMTPNotSupportedError" in refused.value.reason and refused.value.transient is False
    assert "set `smtp_security: starttls` (port 587), or `ssl` (port 465)" in refused.value.reason


def test_a_plain_text_client_on_port_465_is_told_to_speak_tls_from_the_start(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    port = free_port()
    controller = Controller(
        Mailbox(), hostname="127.0.0.1", port=port, ssl_context=_server_context(cert, key)
    )
    controller.start()
    smtp = smtp_for(port, security="starttls", timeout=1)
    try:
        with pytest.raises(mail._SessionFailed) as failed:
            mail._connect(smtp)  # the greeting never comes: the server waits for a TLS handshake
    finally:
        controller.stop()
    # the same failure on the port of implicit TLS names the setting; elsewhere it guesses nothing
    assert mail._advice(failed.value, smtp) is None
    for security in ("none", "starttls"):
        on_465 = dataclasses.replace(smtp, port=465, security=security)
        assert (
            mail._advice(failed.value, on_465)
            == "port 465 speaks TLS from the start: set `smtp_security: ssl`"
        )


def test_a_ca_file_without_certificates_is_refused_with_the_settings(tmp_path: Path) -> None:
    not_pem = tmp_path / "relay-ca.pem"
    not_pem.write_text("this is not a certificate\n", encoding="utf-8")
    settings = Settings(smtp_host="127.0.0.1", smtp_security="starttls", smtp_ca_file=not_pem)
    with pytest.raises(ConfigError, match=r"smtp_ca_file: cannot read .* as PEM certificates") as refused:
        mail.SmtpSettings.from_settings(settings)
    assert refused.value.field == "smtp_ca_file"


# --- a run stopped during the SMTP exchange (Ctrl-C, SIGTERM, a cancelled Prefect run) ----------


def prefect_termination() -> BaseException:
    """What Prefect raises in a run it cancels, or whose process gets SIGTERM."""
    from prefect.exceptions import TerminationSignal

    return TerminationSignal(signal.SIGTERM)


@dataclass
class StoppingMailbox(Mailbox):
    """At one step of the exchange (`at`: RCPT, DATA or QUIT), sends the test's main thread a
    signal, as an operator stopping the run would, and holds its answer meanwhile."""

    at: str = "DATA"
    armed: bool = True
    hold: float = 3.0

    async def _stop_the_client(self) -> None:
        if self.armed:
            self.armed = False
            main = threading.main_thread().ident
            assert main is not None
            signal.pthread_kill(main, signal.SIGUSR1)
            await asyncio.sleep(self.hold)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.at == "RCPT":
            await self._stop_the_client()
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)  # kept, whatever follows
        if self.at == "DATA":
            await self._stop_the_client()
        return answer

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        if self.at == "QUIT":
            await self._stop_the_client()
        return "221 Bye"


@pytest.fixture
def stopping_mailbox() -> Iterator[tuple[StoppingMailbox, int]]:
    handler = StoppingMailbox()
    with serving(handler) as port:
        yield handler, port


# (a new stop each time, as each signal raises its own, and the words the ledger says of it)
STOPS = [
    pytest.param(KeyboardInterrupt, "interrupted (Ctrl-C)", id="ctrl-c"),
    pytest.param(prefect_termination, "the run was stopped (SIGTERM", id="cancelled-run"),
]


def _mail_ada(store: Any, port: int) -> list[mail.DeliveryResult]:
    """The sample week mailed to one reader, as the next run after a stop would."""
    return mail.deliver(
        store,
        week=WEEK,
        digest=sample_digest(),
        readers=[Reader(email="ada@example.org")],
        smtp=smtp_for(port),
    )


def _deliver_until_stopped(store: Any, port: int, stop: BaseException) -> BaseException:
    def raise_stop(signum: int, frame: Any) -> None:
        raise stop

    previous = signal.signal(signal.SIGUSR1, raise_stop)
    try:
        with pytest.raises(type(stop)) as info:
            mail.deliver(
                store, week=WEEK, digest=sample_digest(), readers=[Reader(email="ada@example.org")],
                smtp=smtp_for(port, timeout=30.0), sleep=no_sleep(),
            )  # fmt: skip
    finally:
        signal.signal(signal.SIGUSR1, previous)
    return info.value


@pytest.mark.parametrize(("new_stop", "said"), STOPS)
def test_a_run_stopped_while_the_server_holds_its_answer_to_data_records_unconfirmed(
    stopping_mailbox: tuple[StoppingMailbox, int], store: Any, new_stop: Any, said: str
) -> None:
    box, port = stopping_mailbox
    stop = new_stop()
    assert _deliver_until_stopped(store, port, stop) is stop  # the stop goes on, unchanged
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None and row.status == "unconfirmed" and row.holder is None and row.attempts == 1
    assert said in (row.error or "") and "while the server's answer to the message was awaited" in (
        row.error or ""
    )
    assert "so it may have been delivered" in (row.error or "")
    assert f"send --week {WEEK} --resend --to ada@example.org" in (row.error or "")
    # the next send does not mail a second copy
    [again] = _mail_ada(store, port)
    assert again.status == "skipped" and again.skip_reason == "unconfirmed"
    assert len(box.to("ada@example.org")) == 1


@pytest.mark.parametrize(("new_stop", "said"), STOPS)
def test_a_run_stopped_before_the_message_was_handed_over_records_failed_and_says_why(
    stopping_mailbox: tuple[StoppingMailbox, int], store: Any, new_stop: Any, said: str
) -> None:
    box, port = stopping_mailbox
    stop = new_stop()
    box.at = "RCPT"
    assert _deliver_until_stopped(store, port, stop) is stop
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None and row.status == "failed" and row.holder is None and row.attempts == 1
    assert said in (row.error or "") and "before the message was handed to the server" in (row.error or "")
    # nothing reached the reader: the next send mails them
    [again] = _mail_ada(store, port)
    assert again.status == "sent" and len(box.to("ada@example.org")) == 1


def test_a_run_stopped_after_the_server_accepted_the_message_records_it_sent(
    stopping_mailbox: tuple[StoppingMailbox, int], store: Any
) -> None:
    box, port = stopping_mailbox
    box.at = "QUIT"
    stop = prefect_termination()
    assert _deliver_until_stopped(store, port, stop) is stop
    row = ledger.get_delivery(store, WEEK, "ada@example.org")
    assert row is not None and row.status == "sent" and row.holder is None and row.attempts == 1
    [again] = _mail_ada(store, port)
    assert again.status == "skipped" and again.skip_reason == "already-sent"
    assert len(box.to("ada@example.org")) == 1


def test_a_dry_run_skips_a_reader_whose_message_is_unconfirmed(store: Any) -> None:
    ledger.record_delivery(
        store, week=WEEK, reader="ada@example.org", message_id="<x@example.org>", status="unconfirmed",
        attempts=1, error="timed out after DATA",
    )  # fmt: skip
    readers = [Reader(email="ada@example.org"), Reader(email="bo@example.org")]
    ada, bo = mail.deliver(
        store, week=WEEK, digest=sample_digest(), readers=readers, smtp=smtp_for(free_port()), dry_run=True
    )
    assert (ada.status, ada.skip_reason) == ("skipped", "unconfirmed") and bo.status == "dry-run"


@pytest.mark.parametrize("user", ["bot", "digest-bot", "ab", "a"])
def test_scrub_blanks_an_echoed_auth_plain_argument_whatever_the_user_names_length(user: str) -> None:
    """AUTH PLAIN sends base64("\\0user\\0password"): the password lands at an offset the user
    name decides, so the encoding of the password alone is not in it."""
    import base64

    smtp = smtp_for(25, user=user, password=SecretStr(PASSWORD))
    plain = base64.b64encode(f"\0{user}\0{PASSWORD}".encode()).decode()
    for glued in ("", "X", "XY", "XYZ"):  # letters stuck before it: any alignment
        scrubbed = smtp.scrub(f"535 5.7.8 Authentication failed for [AUTH PLAIN {glued}{plain}]; try again")
        assert scrubbed == "535 5.7.8 Authentication failed for [AUTH PLAIN ***]; try again"
    assert smtp.scrub("535 Authentication failed") == "535 Authentication failed"  # plain words stay
