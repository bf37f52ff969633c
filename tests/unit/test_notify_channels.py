"""The texts of customer messages and the channels that carry them, against real servers on 127.0.0.1: a
mail server (plain, STARTTLS, TLS), the office's webhook receiver and an SMS gateway (tests/notify_peers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from pydantic import SecretStr

from dispatch_tui import clock
from dispatch_tui.domain import NoticeKind
from dispatch_tui.notify_config import Channel, NotifySettings, SmtpSecurity
from dispatch_tui.services.notify.channels import confirmation_ics, send_email, send_sms, send_webhook
from dispatch_tui.services.notify.outgoing import DeliveryError, Outgoing
from dispatch_tui.services.notify.texts import Texts
from tests.clock import DAY, NOW, ZONE, at
from tests.notify_peers import Certificate, SmtpServer, WebhookReceiver, free_port, make_certificate

# aiosmtpd warns of a login without TLS, which is what the plain mail server's tests mean to do.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

WEDNESDAY = DAY + timedelta(days=1)
FROM = "Acme Heating <service@acme.example>"
CUSTOMER = "marie.dupont@example.org"


def day_name(day: Any) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def facts(**changes: Any) -> dict[str, Any]:
    """A notice's facts as the outbox writes them: times in UTC."""
    base: dict[str, Any] = {
        "job_ref": "J-2041", "version": 3, "customer": "Marie Dupont", "address": "5 Quai Rambaud, 69002 Lyon",
        "skill": "hvac", "duration_min": 60, "description": "Boiler makes a knocking noise",
        "window_start": at(DAY, "08:00").isoformat(), "window_end": at(DAY, "12:00").isoformat(),
        "planned_start": at(DAY, "09:30").isoformat(), "planned_end": at(DAY, "10:30").isoformat(),
        "technician": "Ana", "eta": at(DAY, "09:40").isoformat(), "of_job_ref": "J-2007",
    }  # fmt: skip
    return base | changes


def outgoing(kind: NoticeKind = NoticeKind.CONFIRMATION, channel: Channel = Channel.EMAIL,
             recipient: str = CUSTOMER, **changes: Any) -> Outgoing:  # fmt: skip
    return Outgoing(1, f"J-2041:{kind.value}:3", kind, channel, recipient, NOW, facts(**changes))


def texts(templates_dir: Path | None = None, rating_url: str | None = None) -> Texts:
    return Texts(templates_dir, ZONE, "Acme Heating", rating_url)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    """A certificate for 127.0.0.1 that the process trusts, as it would a mail server's real one."""
    made = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(made.cert))
    return made


# The texts


def test_a_confirmation_gives_the_day_and_the_window_in_local_time() -> None:
    rendered = texts().render(outgoing())
    assert rendered.subject == f"Your visit is booked for {day_name(DAY)} (J-2041)"
    assert f"booked for {day_name(DAY)}: our technician will arrive between 08:00 and 12:00" in rendered.body
    assert "07:00" not in rendered.body  # the UTC reading of 08:00 in Paris
    assert "5 Quai Rambaud" in rendered.body and rendered.body.startswith("Hello Marie Dupont,")


def test_a_window_over_several_days_names_the_planned_day_and_promises_word_when_on_the_way() -> None:
    many_days = outgoing(window_end=at(DAY + timedelta(days=2), "18:00").isoformat(),
                         planned_start=at(WEDNESDAY, "10:00").isoformat())  # fmt: skip
    rendered = texts().render(many_days)
    assert f"between {day_name(DAY)} and {day_name(DAY + timedelta(days=2))}" in rendered.body
    assert f"It is planned for {day_name(WEDNESDAY)}." in rendered.body
    assert "We will tell you when the technician is on the way." in rendered.body
    assert rendered.subject == f"Your visit is booked for {day_name(WEDNESDAY)} (J-2041)"
    unplanned = texts().render(outgoing(window_end=at(DAY + timedelta(days=2), "18:00").isoformat(),
                                        planned_start=None))  # fmt: skip
    assert "planned for" not in unplanned.body and "on the way" in unplanned.body


def test_a_new_time_outside_the_promised_window_is_said_as_the_planned_time() -> None:
    moved = texts().render(outgoing(NoticeKind.RESCHEDULED, planned_start=at(WEDNESDAY, "14:00").isoformat()))
    assert f"now come on {day_name(WEDNESDAY)}, arriving around 14:00" in moved.body
    kept = texts().render(outgoing(NoticeKind.RESCHEDULED))
    assert f"now arrive on {day_name(DAY)} between 08:00 and 12:00" in kept.body


def test_reminder_en_route_late_and_follow_up_say_what_the_customer_needs() -> None:
    made = texts()
    assert "tomorrow, " + day_name(DAY) + ", between 08:00 and 12:00" in made.render(outgoing(NoticeKind.REMINDER)).body
    assert "Ana is on the way to you, expected around 09:40." in made.render(outgoing(NoticeKind.EN_ROUTE)).body
    late = made.render(outgoing(NoticeKind.RUNNING_LATE, eta=at(DAY, "12:25").isoformat()))
    assert "Ana is running late and is now expected around 12:25." in late.body
    follow = made.render(outgoing(NoticeKind.FOLLOW_UP))
    assert "After our visit J-2007, a further visit is needed." in follow.body
    assert "We will call you to agree a time." in follow.body
    nobody = made.render(outgoing(NoticeKind.EN_ROUTE, Channel.SMS, technician=None))
    assert nobody.body.startswith("Our technician is on the way")


def test_a_completed_visit_links_to_the_rating_page_or_asks_for_a_mark() -> None:
    linked = texts(rating_url="https://acme.example/rate/{job_ref}").render(outgoing(NoticeKind.COMPLETED))
    assert "rate it at https://acme.example/rate/J-2041" in linked.body
    plain = texts().render(outgoing(NoticeKind.COMPLETED, Channel.SMS))
    assert "Reply with a mark from 1 to 5." in plain.body and "http" not in plain.body


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_text_names_the_job_and_its_sms_fits_one_message(kind: NoticeKind) -> None:
    made = texts(rating_url="https://acme-heating.example/rate/{job_ref}")
    email, sms = made.render(outgoing(kind)), made.render(outgoing(kind, Channel.SMS, "+33612345678"))
    assert "J-2041" in email.subject and "J-2041" in email.body and "J-2041" in sms.body
    assert "\n" not in email.subject and "{" not in email.body + sms.body
    assert len(sms.body) <= 160 and sms.body.isascii(), sms.body  # one plain (GSM) SMS
    assert email.body != sms.body


def test_a_users_template_replaces_the_shipped_one_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "confirmation.txt").write_text(
        "Bonjour {{ customer }}, rendez-vous le {{ window_start|day }} à {{ window_start|clock }} ({{ job_ref }}).\n"
    )
    made = texts(tmp_path)
    email = made.render(outgoing())
    assert email.body == f"Bonjour Marie Dupont, rendez-vous le {day_name(DAY)} à 08:00 (J-2041)."
    assert email.subject == f"Your visit is booked for {day_name(DAY)} (J-2041)"  # not overridden: shipped
    assert made.render(outgoing(channel=Channel.SMS)).body.startswith("Your visit J-2041 is booked")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("Hello,\n{{ customer | shout }}\n", 2, "No filter named 'shout'"),
        ("Hello,\n\n{{ cutsomer }} is booked.\n", 3, "'cutsomer' is undefined"),
        ("Hello,\n{% if customer %}\nno end\n", 3, "endif"),
        ("{{ eta|clock }} {{ window_end|clock(2) }}", 1, "argument"),
    ],
)
def test_a_broken_template_fails_the_message_for_good_naming_file_and_line(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    broken = tmp_path / "confirmation.txt"
    broken.write_text(text)
    with pytest.raises(DeliveryError) as caught:
        texts(tmp_path).render(outgoing())
    assert caught.value.permanent
    assert f"{broken}, line {line}" in str(caught.value) and says in str(caught.value)


# Email


def mail_settings(server_port: int, security: SmtpSecurity = SmtpSecurity.NONE, **changes: Any) -> NotifySettings:
    return NotifySettings(smtp_host="127.0.0.1", smtp_port=server_port, smtp_security=security, email_from=FROM,
                          timeout_s=5, **changes)  # fmt: skip


def test_an_email_arrives_with_its_text_its_keys_and_the_calendar_file() -> None:
    message = outgoing()
    rendered = texts().render(message)
    ics = confirmation_ics(message.facts, ZONE, "Acme Heating", NOW)
    with SmtpServer() as server:
        send_email(message, rendered, mail_settings(server.port), ics)
        send_email(message, rendered, mail_settings(server.port), ics)  # a retry after an unclear failure
        first, again = server.messages
    assert first.rcpt_tos == [CUSTOMER] and first.mail_from == "service@acme.example"
    mail = first.message
    assert (mail["From"], mail["To"], mail["Subject"]) == (FROM, CUSTOMER, rendered.subject)
    assert mail["X-Dispatch-Idempotency-Key"] == "J-2041:confirmation:3" and mail["Date"]
    assert mail["Message-ID"].endswith("@acme.example>") and mail["Message-ID"] == again.message["Message-ID"]
    body = mail.get_body(("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n").strip() == rendered.body
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "J-2041.ics"
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert event.decoded("dtstart") == at(DAY, "08:00") and event.decoded("dtend") == at(DAY, "12:00")
    assert str(event["uid"]) == "J-2041@dispatch" and event.decoded("sequence") == 3


def test_an_email_without_calendar_has_no_attachment_and_logs_in_when_asked() -> None:
    with SmtpServer(login=("dispatch", "s3cret-pass")) as server:
        settings = mail_settings(server.port, smtp_username="dispatch", smtp_password=SecretStr("s3cret-pass"))
        send_email(outgoing(NoticeKind.EN_ROUTE), texts().render(outgoing(NoticeKind.EN_ROUTE)), settings, None)
        [received] = server.messages
    assert received.login == "dispatch" and list(received.message.iter_attachments()) == []


def test_a_wrong_password_fails_for_good_without_showing_it() -> None:
    with SmtpServer(login=("dispatch", "s3cret-pass")) as server:
        settings = mail_settings(server.port, smtp_username="dispatch", smtp_password=SecretStr("guessed-pass"))
        with pytest.raises(DeliveryError) as caught:
            send_email(outgoing(), texts().render(outgoing()), settings, None)
        assert server.messages == []
    assert caught.value.permanent and f"mail server 127.0.0.1:{server.port} refused the login: 535" in str(caught.value)
    assert "guessed-pass" not in str(caught.value)


@pytest.mark.parametrize("security", [SmtpSecurity.STARTTLS, SmtpSecurity.TLS])
def test_email_over_tls_logs_in_and_arrives(certificate: Certificate, security: SmtpSecurity) -> None:
    tls_first = security == SmtpSecurity.TLS
    with SmtpServer(login=("dispatch", "s3cret-pass"), tls=certificate, implicit_tls=tls_first) as server:
        settings = mail_settings(
            server.port, security, smtp_username="dispatch", smtp_password=SecretStr("s3cret-pass")
        )
        send_email(outgoing(), texts().render(outgoing()), settings, None)
        [received] = server.messages
    assert received.login == "dispatch" and received.message["To"] == CUSTOMER


def test_a_mail_server_with_an_untrusted_certificate_gets_no_password(tmp_path: Path) -> None:
    untrusted = make_certificate(tmp_path)  # not in SSL_CERT_FILE
    with SmtpServer(login=("dispatch", "s3cret-pass"), tls=untrusted) as server:
        settings = mail_settings(server.port, SmtpSecurity.STARTTLS, smtp_username="dispatch",
                                 smtp_password=SecretStr("s3cret-pass"))  # fmt: skip
        with pytest.raises(DeliveryError) as caught:
            send_email(outgoing(), texts().render(outgoing()), settings, None)
        assert server.messages == []
    assert not caught.value.permanent and "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def test_a_refused_address_fails_for_good_and_a_busy_mailbox_is_tried_again() -> None:
    with SmtpServer() as server:
        server.refuse(CUSTOMER)
        with pytest.raises(DeliveryError) as refused:
            send_email(outgoing(), texts().render(outgoing()), mail_settings(server.port), None)
        server.refuse(CUSTOMER, "450 4.2.1 Mailbox busy, try later")
        with pytest.raises(DeliveryError) as busy:
            send_email(outgoing(), texts().render(outgoing()), mail_settings(server.port), None)
        assert server.messages == []
    assert refused.value.permanent and not busy.value.permanent
    assert f"refused the recipient {CUSTOMER}: 550 5.1.1 No such mailbox here" in str(refused.value)
    assert "450" in str(busy.value)


@pytest.mark.parametrize("security", list(SmtpSecurity))
def test_an_unreachable_mail_server_is_tried_again(security: SmtpSecurity) -> None:
    port = free_port()
    with pytest.raises(DeliveryError) as caught:
        send_email(outgoing(), texts().render(outgoing()), mail_settings(port, security), None)
    assert not caught.value.permanent and f"mail server 127.0.0.1:{port}" in str(caught.value)


# The webhook and the SMS gateway


def hook_settings(url: str, secret: str | None) -> NotifySettings:
    return NotifySettings(webhook_url=url, webhook_secret=SecretStr(secret) if secret else None, timeout_s=5)


def test_a_webhook_message_arrives_signed_and_verified(client: httpx.Client) -> None:
    with WebhookReceiver("whsec-office") as receiver:
        message = outgoing(NoticeKind.EN_ROUTE, Channel.WEBHOOK, receiver.url)
        rendered = texts().render(message)
        send_webhook(message, rendered, hook_settings(receiver.url, "whsec-office"), client, clock.now())
        [delivery] = receiver.deliveries
    assert delivery.payload == {
        "id": "J-2041:en_route:3", "kind": "en_route", "created_at": NOW.isoformat(), "job_ref": "J-2041",
        "subject": rendered.subject, "text": rendered.body, "facts": message.facts,
    }  # fmt: skip
    assert "Ana is on the way to you, expected around 09:40." in delivery.payload["text"]
    assert delivery.headers["idempotency-key"] == "J-2041:en_route:3"
    assert delivery.headers["x-dispatch-kind"] == "en_route"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-dispatch-timestamp"] == str(int(clock.now().timestamp()))


def test_a_wrong_secret_or_a_stale_timestamp_is_refused_for_good(client: httpx.Client) -> None:
    with WebhookReceiver("whsec-office") as receiver:
        message = outgoing(NoticeKind.COMPLETED, Channel.WEBHOOK, receiver.url)
        rendered = texts().render(message)
        with pytest.raises(DeliveryError) as wrong:
            send_webhook(message, rendered, hook_settings(receiver.url, "whsec-guess"), client, clock.now())
        stale = clock.now() - timedelta(seconds=301)
        with pytest.raises(DeliveryError) as replayed:
            send_webhook(message, rendered, hook_settings(receiver.url, "whsec-office"), client, stale)
        assert receiver.deliveries == []
    assert wrong.value.permanent and replayed.value.permanent
    assert str(wrong.value) == f"webhook {receiver.url} answered 401: bad signature"
    assert "401" in str(replayed.value) and "300 s" in str(replayed.value)
    assert "whsec" not in str(wrong.value) + str(replayed.value)


def test_an_unavailable_receiver_is_tried_again_and_gets_the_message_once(client: httpx.Client) -> None:
    with WebhookReceiver("whsec-office") as receiver:
        message = outgoing(NoticeKind.RESCHEDULED, Channel.WEBHOOK, receiver.url)
        rendered, settings = texts().render(message), hook_settings(receiver.url, "whsec-office")
        receiver.fail_next(1)
        with pytest.raises(DeliveryError) as busy:
            send_webhook(message, rendered, settings, client, clock.now())
        receiver.down()
        with pytest.raises(DeliveryError):
            send_webhook(message, rendered, settings, client, clock.now())
        receiver.up()
        send_webhook(message, rendered, settings, client, clock.now())
        assert receiver.counts() == {"J-2041:rescheduled:3": 1}
    assert not busy.value.permanent
    assert str(busy.value) == f"webhook {receiver.url} answered 503: receiver unavailable, try again later"


def test_an_unreachable_webhook_is_tried_again(client: httpx.Client) -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks"
    with pytest.raises(DeliveryError) as caught:
        send_webhook(outgoing(channel=Channel.WEBHOOK, recipient=url), texts().render(outgoing()),
                     hook_settings(url, None), client, clock.now())  # fmt: skip
    assert not caught.value.permanent and f"could not reach the webhook {url}" in str(caught.value)


def test_an_sms_goes_to_the_gateway_signed_with_the_bearer_token(client: httpx.Client) -> None:
    with WebhookReceiver("smsec-gw", token="tok-8842") as gateway:
        settings = NotifySettings(
            sms_url=gateway.url, sms_secret=SecretStr("smsec-gw"), sms_token=SecretStr("tok-8842")
        )
        message = outgoing(NoticeKind.REMINDER, Channel.SMS, "+33612345678")
        rendered = texts().render(message)
        send_sms(message, rendered, settings, client, clock.now())
        wrong_token = settings.model_copy(update={"sms_token": SecretStr("tok-0000")})
        with pytest.raises(DeliveryError) as refused:
            send_sms(message, rendered, wrong_token, client, clock.now())
        [delivery] = gateway.deliveries
    assert delivery.payload == {"to": "+33612345678", "text": rendered.body, "idempotency_key": message.key}
    assert rendered.body.startswith("Reminder: your visit J-2041 is tomorrow between 08:00 and 12:00.")
    assert delivery.headers["authorization"] == "Bearer tok-8842"
    assert refused.value.permanent and "401" in str(refused.value) and "tok-" not in str(refused.value)
