"""Sending a DING step out of Knock: an email through SMTP, or a call to the operator's
HTTP gateway (which turns it into an SMS or a phone call).

Both addresses come from the operator's settings, never from a user, so the gateway may be
on loopback or a private network (DESIGN's rule on outbound HTTP is about user URLs).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from knock.config import Settings
from knock.core.clock import isoformat

SMTP_TIMEOUT_S = 10.0
SUBJECT_NAME_CHARS = 64
# Outcomes a step can have (kept in ding_steps.outcome).
SENT = "sent"
FAILED = "failed"
NOT_CONFIGURED = "not_configured"
SKIPPED = "skipped"


@dataclass(frozen=True)
class StepNotice:
    """Everything a step needs to reach one recipient, read before sending."""

    ding_id: str
    org_id: str
    org_name: str
    sender_id: str
    sender_name: str
    user_id: str
    display_name: str
    email: str
    text: str
    created_at: datetime
    dinged_at: datetime
    step: str

    @property
    def idempotency_key(self) -> str:
        """The same for every try of one step of one ladder: a receiver may drop repeats
        (a node that died after sending and before recording makes the next one resend)."""
        return f"{self.ding_id}.{self.user_id}.{self.step}.{int(self.dinged_at.timestamp())}"


def one_line(value: str, limit: int) -> str:
    """User text made safe for a mail header: no line breaks or control characters."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(cleaned.split())[:limit]


def ding_email(notice: StepNotice, sender_address: str) -> EmailMessage:
    mail = EmailMessage()
    sender = one_line(notice.sender_name, SUBJECT_NAME_CHARS) or "Someone"
    team = one_line(notice.org_name, SUBJECT_NAME_CHARS)
    mail["Subject"] = f"DING from {sender}" + (f" ({team})" if team else "")
    mail["From"] = formataddr(("Knock", sender_address))
    mail["To"] = formataddr((one_line(notice.display_name, SUBJECT_NAME_CHARS), notice.email))
    domain = sender_address.rpartition("@")[2] or "knock"
    mail["Message-ID"] = make_msgid(idstring=notice.idempotency_key, domain=domain)
    mail["Auto-Submitted"] = "auto-generated"
    body = notice.text or "(a message you can read in Knock)"
    mail.set_content(
        f"{sender} sent you a DING in {team or 'Knock'} and is waiting for you to confirm it."
        f"\n\n{body}\n\nOpen Knock and confirm the DING to stop these reminders.\n"
    )
    return mail


class DingDelivery:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        if self.gateway_available:
            # httpx (with the CLI extras it imports when typer's rich and click are there)
            # costs most of a second: a node with a gateway pays it at start rather than on
            # the event loop in its first step; a node without one never does.
            import httpx  # noqa: F401

    @property
    def email_available(self) -> bool:
        return bool(self._settings.smtp_host)

    @property
    def gateway_available(self) -> bool:
        return bool(self._settings.ding_gateway_url)

    async def deliver(self, notice: StepNotice) -> tuple[str, str]:
        """(outcome, detail) of sending one step; never raises for a delivery problem."""
        if notice.step == "email":
            if not self.email_available:
                return NOT_CONFIGURED, "no SMTP server is configured"
            if not notice.email:
                return NOT_CONFIGURED, "the recipient has no email address"
            try:
                await asyncio.to_thread(self._send_email, ding_email(notice, self._smtp_from))
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                return FAILED, one_line(f"{type(exc).__name__}: {exc}", 200)
            return SENT, f"mailed to {notice.email}"[:200]
        if not self.gateway_available:
            return NOT_CONFIGURED, "no gateway is configured"
        return await self._call_gateway(notice)

    @property
    def _smtp_from(self) -> str:
        return self._settings.smtp_from

    def _send_email(self, mail: EmailMessage) -> None:
        settings = self._settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(mail)

    async def _call_gateway(self, notice: StepNotice) -> tuple[str, str]:
        import httpx  # imported at construction already (see __init__)

        settings = self._settings
        headers = {"Idempotency-Key": notice.idempotency_key}
        token = settings.ding_gateway_token.get_secret_value()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = {
            "ding_id": notice.ding_id,
            "org_id": notice.org_id,
            "org_name": notice.org_name,
            "sender_id": notice.sender_id,
            "sender_name": notice.sender_name,
            "user_id": notice.user_id,
            "display_name": notice.display_name,
            "email": notice.email,
            "text": notice.text,
            "created_at": isoformat(notice.created_at),
            "idempotency_key": notice.idempotency_key,
        }
        try:
            async with httpx.AsyncClient(
                timeout=settings.ding_gateway_timeout_s, follow_redirects=False
            ) as client:
                response = await client.post(
                    settings.ding_gateway_url, json=payload, headers=headers
                )
        except httpx.HTTPError as exc:
            return FAILED, one_line(f"{type(exc).__name__}: {exc}", 200)
        if not response.is_success:
            return FAILED, f"the gateway answered {response.status_code}"
        return SENT, f"the gateway answered {response.status_code}"
