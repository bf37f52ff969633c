"""The channels: one rendered message pushed over email (SMTP), the office's webhook or the SMS gateway.

Each either returns (delivered: the server took the message) or raises ``DeliveryError``, permanent when
trying again cannot help. The webhook and the SMS gateway get the same signature (docs/webhooks.md);
nothing here puts a password, secret or token in an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from dispatch_tui.notify_config import NotifySettings, SmtpSecurity
from dispatch_tui.services.notify.outgoing import DeliveryError, Outgoing, shown_url
from dispatch_tui.services.notify.texts import Rendered
from dispatch_tui.services.reports.calendar_export import BookedVisit, booking_calendar

IDEMPOTENCY_HEADER = "X-Dispatch-Idempotency-Key"
RETRYABLE_STATUSES = frozenset({408, 425, 429})  # timeouts and "slow down": the same request may pass later
SNIPPET = 200  # characters of a refusing server's answer kept in the error
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]")  # what a Message-ID's left part may not hold


def send_email(outgoing: Outgoing, rendered: Rendered, settings: NotifySettings, ics: bytes | None) -> None:
    """Send ``rendered`` to ``outgoing.recipient`` through the mail server, with the booking's calendar
    attached when ``ics`` is given."""
    host, port = settings.smtp_host, settings.smtp_port
    if not host or not settings.email_from:
        raise DeliveryError("email is not set up (notify.smtp_host and notify.email_from)", permanent=True)
    message = email_message(outgoing, rendered, settings.email_from, ics)
    server = f"mail server {host}:{port}"
    secrets = [settings.smtp_password.get_secret_value()] if settings.smtp_password else []
    try:
        with _connect(settings) as smtp:
            if settings.smtp_security == SmtpSecurity.STARTTLS:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, secrets[0] if secrets else "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (550, b""))
        raise DeliveryError(_scrub(f"{server} refused the recipient {outgoing.recipient}: {code} {_said(text)}",
                                   secrets), permanent=not 400 <= code < 500) from None  # fmt: skip
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH: the settings ask what it cannot do
        raise DeliveryError(f"{server} cannot do what the settings ask: {exc}", permanent=True) from None
    except smtplib.SMTPResponseException as exc:  # 4xx: try again later; 5xx: refused for good
        what = "refused the login" if isinstance(exc, smtplib.SMTPAuthenticationError) else "refused the message"
        raise DeliveryError(_scrub(f"{server} {what}: {exc.smtp_code} {_said(exc.smtp_error)}", secrets),
                            permanent=500 <= exc.smtp_code < 600) from None  # fmt: skip
    except TimeoutError:
        raise DeliveryError(f"{server} did not answer within {settings.timeout_s:g} s") from None
    except (OSError, smtplib.SMTPException) as exc:  # unreachable, dropped the line, TLS failed
        raise DeliveryError(_scrub(f"could not talk to the {server}: {exc}", secrets)) from None


def email_message(outgoing: Outgoing, rendered: Rendered, sender: str, ics: bytes | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = outgoing.recipient
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(outgoing.created_at.astimezone(UTC))  # the event's time: the same on a retry
    message["Message-ID"] = message_id(outgoing.key, sender)
    message[IDEMPOTENCY_HEADER] = outgoing.key
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies are not sent back
    message.set_content(rendered.body)
    if ics is not None:
        job_ref = str(outgoing.facts.get("job_ref") or "visit")
        message.add_attachment(ics, maintype="text", subtype="calendar", filename=f"{job_ref}.ics",
                               params={"method": "PUBLISH", "charset": "utf-8"})  # fmt: skip
    return message


def message_id(key: str, sender: str) -> str:
    """The same for every copy of one message (the key), so that a repeat is recognisable as one."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "dispatch.invalid"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]  # tells apart keys the cleaning made alike
    return f"<{_NOT_ATEXT.sub('.', key)}.{digest}@{domain}>"


def _connect(settings: NotifySettings) -> smtplib.SMTP:
    host, timeout = settings.smtp_host or "", settings.timeout_s
    if settings.smtp_security == SmtpSecurity.TLS:
        return smtplib.SMTP_SSL(host, settings.smtp_port, timeout=timeout, context=ssl.create_default_context())
    return smtplib.SMTP(host, settings.smtp_port, timeout=timeout)


def webhook_payload(outgoing: Outgoing, rendered: Rendered) -> bytes:
    """The JSON the office's webhook receives (docs/webhooks.md): compact, keys sorted."""
    return _json({
        "id": outgoing.key,
        "kind": outgoing.kind.value,
        "created_at": outgoing.created_at.astimezone(UTC).isoformat(),
        "job_ref": outgoing.facts.get("job_ref"),
        "subject": rendered.subject,
        "text": rendered.body,
        "facts": outgoing.facts,
    })  # fmt: skip


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Dispatch-Signature of ``body`` sent at ``timestamp`` (unix seconds): HMAC-SHA256 of
    "<timestamp>." followed by the body, so that a replayed body cannot be given a fresh timestamp."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send_webhook(
    outgoing: Outgoing, rendered: Rendered, settings: NotifySettings, client: httpx.Client, now: datetime
) -> None:  # fmt: skip
    """POST the message's JSON to the webhook (``outgoing.recipient``), signed when a secret is set."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    body = webhook_payload(outgoing, rendered)
    _post(client, "webhook", outgoing.recipient, body, _headers(outgoing, body, secret, now), settings.timeout_s)


def send_sms(
    outgoing: Outgoing, rendered: Rendered, settings: NotifySettings, client: httpx.Client, now: datetime
) -> None:  # fmt: skip
    """POST the SMS (to, text, idempotency_key) to the gateway: a webhook with its own secret and token."""
    if not settings.sms_url:
        raise DeliveryError("SMS is not set up (notify.sms_url)", permanent=True)
    secret = settings.sms_secret.get_secret_value() if settings.sms_secret else None
    body = _json({"to": outgoing.recipient, "text": rendered.body, "idempotency_key": outgoing.key})
    headers = _headers(outgoing, body, secret, now)
    if settings.sms_token:
        headers["Authorization"] = f"Bearer {settings.sms_token.get_secret_value()}"
    _post(client, "SMS gateway", settings.sms_url, body, headers, settings.timeout_s)


def confirmation_ics(facts: dict[str, Any], zone: ZoneInfo, company: str, stamp: datetime) -> bytes:
    """The calendar file of a confirmation or rescheduling, from its notice's facts (``outbox.FACTS``)."""
    visit = BookedVisit(
        ref=str(facts["job_ref"]), version=int(facts.get("version") or 0), skill=str(facts.get("skill") or ""),
        window_start=datetime.fromisoformat(facts["window_start"]),
        window_end=datetime.fromisoformat(facts["window_end"]),
        address=str(facts.get("address") or ""), duration_min=int(facts.get("duration_min") or 0),
        description=str(facts.get("description") or ""),
    )  # fmt: skip
    return booking_calendar(visit, zone, company=company, stamp=stamp)


def _headers(outgoing: Outgoing, body: bytes, secret: str | None, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "X-Dispatch-Timestamp": str(timestamp),
        "Idempotency-Key": outgoing.key,
        "X-Dispatch-Kind": outgoing.kind.value,
    }
    if secret:
        headers["X-Dispatch-Signature"] = sign(secret, timestamp, body)
    return headers


def _post(client: httpx.Client, what: str, url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    where = f"{what} {shown_url(url)}"
    try:
        response = client.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise DeliveryError(f"{where} did not answer within {timeout:g} s") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise DeliveryError(f"{where} is not a URL that can be posted to: {exc}", permanent=True) from None
    except httpx.TransportError as exc:  # refused, reset, DNS: the server may be back later
        raise DeliveryError(f"could not reach the {where}: {exc}") from None
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status in RETRYABLE_STATUSES or status >= 500
    answer = " ".join(response.text.split())[:SNIPPET]
    raise DeliveryError(f"{where} answered {status}" + (f": {answer}" if answer else ""), permanent=not retryable)


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _said(text: bytes | str) -> str:
    return text.decode(errors="replace") if isinstance(text, bytes) else text


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
