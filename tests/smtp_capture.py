"""A real SMTP server on loopback that keeps what it receives, for tests that send mail for real.

Django's locmem backend shows what we *meant* to send; this shows what a mail server *got*: the
bytes after Django's SMTP backend, MIME encoding and the SMTP dialogue. Use it as a context
manager (it also points Django's email settings at itself), or through the ``smtp_capture``
fixture::

    def test_something(smtp_capture):
        ...  # code that sends mail
        message = smtp_capture.only(to="pat@mail.example")
        link = smtp_capture.link(message, containing="/manage/")

``refuse`` makes the server reject a recipient (550), to test how a sender handles refusals.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

_LINK = re.compile(r"https?://[^\s<>\"')]+")


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, capture: SmtpCapture) -> None:
        self.capture = capture

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address.lower() in self.capture.refused:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.capture.lock:
            self.capture.envelopes.append(Envelope(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), message=message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpCapture:
    """An SMTP server on 127.0.0.1 and a free port, collecting every message it accepts."""

    hostname: str = "127.0.0.1"
    port: int = 0
    envelopes: list[Envelope] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None
    _settings: Any = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [envelope.message for envelope in self.envelopes]

    def email_settings(self) -> dict[str, Any]:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.hostname,
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_TIMEOUT": 10,
        }

    def start(self) -> SmtpCapture:
        # aiosmtpd checks the server by connecting to the port it was given, so port 0 cannot be
        # passed through: ask the kernel for a free port, then bind it (retrying a lost race).
        for _ in range(5):
            self.port = _free_port(self.hostname)
            controller = Controller(_Handler(self), hostname=self.hostname, port=self.port, ready_timeout=10)
            try:
                controller.start()
            except OSError:
                continue
            self._controller = controller
            break
        else:
            raise RuntimeError("Could not start the test SMTP server on a free port.")
        self._settings = override_settings(**self.email_settings())
        self._settings.enable()
        return self

    def stop(self) -> None:
        if self._settings is not None:
            self._settings.disable()
            self._settings = None
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpCapture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def refuse(self, address: str) -> None:
        """Reject this recipient with a permanent error from now on."""
        self.refused.add(address.lower())

    def clear(self) -> None:
        with self.lock:
            self.envelopes.clear()

    def to(self, address: str) -> list[EmailMessage]:
        """Messages whose envelope was addressed to ``address`` (case-insensitive)."""
        wanted = address.lower()
        with self.lock:
            return [e.message for e in self.envelopes if wanted in (r.lower() for r in e.rcpt_tos)]

    def only(self, *, to: str) -> EmailMessage:
        """The single message to ``to``; fails the test if there are none or several."""
        found = self.to(to)
        assert len(found) == 1, f"expected one message to {to}, got {len(found)}"
        return found[0]

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The message's plain-text body."""
        body = message.get_body(preferencelist=("plain",))
        assert body is not None, "the message has no text/plain body"
        content = body.get_content()
        assert isinstance(content, str)
        return content

    @classmethod
    def links(cls, message: EmailMessage) -> list[str]:
        """Every http(s) link in the plain-text body, in order."""
        return _LINK.findall(cls.text(message))

    @classmethod
    def link(cls, message: EmailMessage, *, containing: str) -> str:
        """The one link in the body that contains ``containing`` (e.g. ``"/manage/"``)."""
        found = [link for link in cls.links(message) if containing in link]
        assert len(found) == 1, f"expected one link containing {containing!r}, got {found}"
        return found[0]

    @staticmethod
    def attachments(message: EmailMessage, content_type: str | None = None) -> list[EmailMessage]:
        """Attachment parts, optionally only those of ``content_type`` (e.g. ``"text/calendar"``)."""
        parts = [part for part in message.iter_attachments() if isinstance(part, EmailMessage)]
        return [part for part in parts if content_type is None or part.get_content_type() == content_type]


def _free_port(hostname: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((hostname, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_capture() -> Iterator[SmtpCapture]:
    """A running capture server with Django's email settings pointed at it for the test."""
    with SmtpCapture() as capture:
        yield capture
