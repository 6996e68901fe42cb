"""Fixtures shared by the command tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.test_mail import Mailbox, free_port


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP peer on 127.0.0.1, named by the DLTHEORY_SMTP_* settings; yields its mailbox."""
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DLTHEORY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DLTHEORY_SMTP_PORT", str(port))
    monkeypatch.setenv("DLTHEORY_MAIL_FROM", "DL Theory <digest@example.org>")
    try:
        yield handler
    finally:
        controller.stop()
