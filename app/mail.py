"""E-mail to staff: the moderators' digest of answers waiting (SMTP, off while SMTP_HOST is empty).

The text is Danish (the staff's language), plain text, and holds only counts, campaign titles
and a link to the moderation page: never an answer's text.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from surveys import notifications
from surveys.models import utcnow

from .public_links import public_url

log = logging.getLogger(__name__)

#: Seconds to wait for the mail server.
SMTP_TIMEOUT = 30


def mail_enabled() -> bool:
    """Whether e-mail is configured (``SMTP_HOST`` and ``SMTP_FROM``)."""
    config = current_app.config
    return bool(config["SMTP_HOST"] and config["SMTP_FROM"])


def digest_message(digest: notifications.Digest) -> EmailMessage:
    """The digest e-mail to one moderator, in Danish."""
    user = digest.user
    with force_locale("da"):
        subject = ngettext(
            "%(num)d answer is waiting for moderation in Stemmer",
            "%(num)d answers are waiting for moderation in Stemmer",
            digest.total,
        )
        lines = [
            _("Hello %(name)s", name=user.name or user.email),
            "",
            ngettext(
                "%(num)d answer is waiting for moderation at %(organisation)s:",
                "%(num)d answers are waiting for moderation at %(organisation)s:",
                digest.total,
                organisation=user.organisation.name,
            ),
            "",
            *(
                "- "
                + ngettext(
                    "%(title)s: %(num)d answer", "%(title)s: %(num)d answers", count, title=title
                )
                for _id, title, count in digest.campaigns
            ),
            "",
            _("Moderate them here: %(url)s", url=public_url("staff.moderation_queue")),
            "",
            _(
                "You get this e-mail because you can moderate answers in Stemmer; at most "
                "one a day. It never holds the answers themselves."
            ),
        ]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["SMTP_FROM"]
    message["To"] = formataddr((user.name, user.email))
    message["Message-ID"] = make_msgid(domain="stemmer")
    message.set_content("\n".join(lines))
    return message


def _connect() -> smtplib.SMTP:
    config = current_app.config
    server = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT)
    try:
        if config["SMTP_STARTTLS"]:
            server.starttls()
        if config["SMTP_USER"]:
            server.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    except Exception:
        server.close()
        raise
    return server


def send_moderation_digests(session: Session) -> int:
    """E-mail every moderator due a digest (:func:`surveys.notifications.digests_due`); how
    many were sent. Nothing when e-mail is not configured. A digest that could not be sent is
    tried again at the next run."""
    if not mail_enabled():
        return 0
    interval = timedelta(hours=current_app.config["MODERATION_DIGEST_HOURS"])
    due = notifications.digests_due(session, utcnow(), interval)
    if not due:
        return 0
    sent = 0
    with _connect() as server:
        for digest in due:
            try:
                server.send_message(digest_message(digest))
            except smtplib.SMTPRecipientsRefused:
                log.warning(
                    "the mail server refused the address of staff member %s", digest.user.id
                )
                continue
            notifications.record_digest_sent(session, digest)
            sent += 1
    return sent
