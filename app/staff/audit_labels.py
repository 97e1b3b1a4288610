"""Words for the audit log (issue 24): what happened, to what, and the values before and after,
in the staff's language and in Copenhagen time, instead of the codes the log stores.

An action, target type, key or value without a label is shown as it is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "answer.approve": _l("Answer approved"),
    "answer.hide": _l("Answer hidden"),
    "answer.pending": _l("Answer waiting again"),
    "answer.redact": _l("Text removed from an answer"),
    "answer.transcribe": _l("Paper answer typed in"),
    "answer.transcription_corrected": _l("Typed-in answer corrected"),
    "answer.transcription_deleted": _l("Typed-in answer deleted"),
    "answers.import": _l("Answers imported"),
    "auth.lock": _l("Account locked after failed logins"),
    "auth.login": _l("Logged in"),
    "auth.login_failed": _l("Failed login"),
    "auth.login_refused_locked": _l("Login refused: account locked"),
    "auth.logout": _l("Logged out"),
    "auth.login_sso": _l("Logged in with single sign-on"),
    "auth.sso_linked": _l("Account linked to single sign-on"),
    "auth.sso_refused": _l("Single sign-on refused: no role"),
    "auth.sso_refused_inactive": _l("Single sign-on refused: account deactivated"),
    "auth.sso_unknown": _l("Single sign-on refused: no account (create one to let them in)"),
    "campaign.create": _l("Campaign created"),
    "campaign.delete": _l("Campaign deleted"),
    "campaign.export": _l("Answers exported"),
    "campaign.publish": _l("Report published"),
    "campaign.unpublish": _l("Report taken down"),
    "campaign.update": _l("Campaign changed"),
    "device.create": _l("Kiosk device created"),
    "device.revoke": _l("Kiosk device revoked"),
    "feedback.create": _l("Reply under an answer or a theme published"),
    "feedback.delete": _l("Reply under an answer or a theme deleted"),
    "feedback.update": _l("Reply under an answer or a theme changed"),
    "moderation.digest": _l("Moderation digest sent"),
    "organisation.logo": _l("Logo changed"),
    "organisation.logo_removed": _l("Logo removed"),
    "organisation.update": _l("Organisation settings changed"),
    "prompt.create": _l("Question added"),
    "prompt.delete": _l("Question removed"),
    "prompt.move": _l("Question moved"),
    "prompt.update": _l("Question changed"),
    "reply.create": _l("Reply published"),
    "reply.hide": _l("Reply taken off the wall"),
    "retention.anonymise": _l("Answers made anonymous (retention)"),
    "retention.delete": _l("Answers deleted (retention)"),
    "theme.describe": _l("Theme described"),
    "theme.exclude": _l("Answer taken out of a theme"),
    "theme.hide": _l("Theme hidden"),
    "theme.include": _l("Answer put in a theme"),
    "theme.merge": _l("Themes merged"),
    "theme.move": _l("Answer moved to another theme"),
    "theme.pin": _l("Quote pinned"),
    "theme.rename": _l("Theme renamed"),
    "theme.run": _l("Themes found"),
    "theme.split": _l("Theme split"),
    "theme.unhide": _l("Theme shown again"),
    "theme.undo": _l("Merge or split undone"),
    "theme.unpin": _l("Quote unpinned"),
    "twofactor.disable": _l("Two-factor sign-in turned off"),
    "twofactor.enrol": _l("Two-factor sign-in set up"),
    "twofactor.failed": _l("Wrong two-factor code"),
    "twofactor.login": _l("Two-factor code accepted"),
    "twofactor.recovery_code_used": _l("Recovery code used"),
    "twofactor.recovery_codes_renewed": _l("New recovery codes made"),
    "twofactor.reset": _l("Two-factor sign-in reset"),
    "user.create": _l("User created"),
    "user.create_sso": _l("User created by single sign-on"),
    "user.password_change": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "user.unlock": _l("Account unlocked"),
    "user.update": _l("User changed"),
    "wall.create": _l("Wall created"),
    "wall.spotlight": _l("Note in the spotlight"),
    "wall.translate": _l("Wall texts in another language changed"),
    "wall.update": _l("Wall changed"),
}

TARGET_LABELS = {
    "answer": _l("Answer"),
    "campaign": _l("Campaign"),
    "kiosk_device": _l("Kiosk device"),
    "organisation": _l("Organisation"),
    "prompt": _l("Question"),
    "staff_user": _l("User"),
    "theme": _l("Theme"),
    "theme_run": _l("Theme run"),
    "wall": _l("Wall"),
    "wall_reply": _l("Reply"),
    "feedback_reply": _l("Reply under an answer or a theme"),
}

KEY_LABELS = {
    "status": _l("Status"),
    "flagged": _l("Possible personal data"),
    "title": _l("Title"),
    "label": _l("Name"),
    "name": _l("Name"),
    "text": _l("Text"),
    "length": _l("Length"),
    "hidden": _l("Hidden"),
    "is_hidden": _l("Hidden"),
    "opens_at": _l("Opens"),
    "closes_at": _l("Closes"),
    "audience": _l("Audience"),
    "moderation": _l("Moderation"),
    "role": _l("Role"),
    "email": _l("E-mail"),
    "failed_logins": _l("Failed logins"),
    "recovery_codes_left": _l("Recovery codes left"),
    "locked_until": _l("Locked until"),
    "revoked_at": _l("Revoked"),
    "answers": _l("Answers"),
    "format": _l("Format"),
    "controller_name": _l("Data controller's name"),
    "controller_address": _l("Postal address"),
    "controller_email": _l("E-mail for questions about the answers"),
    "controller_phone": _l("Phone"),
    "dpo_email": _l("The data protection officer's e-mail (DPO)"),
    "accessibility_url": _l("Accessibility statement"),
    "display_name": _l("Name on walls, posters and reports"),
    "brand_colour": _l("Main colour"),
    "logo": _l("Logo"),
    "privacy_purpose": _l("What the answers are used for (privacy notice)"),
    "lang": _l("Language"),
    "intro": _l("Introduction"),
    "areas": _l("Areas"),
    "prompts": _l("Questions"),
    "translations": _l("In other languages"),
    "themes": _l("Themes"),
    "run": _l("Run"),
    "undone": _l("Undone"),
}

VALUE_LABELS = {
    "theme.merge": _l("Themes merged"),
    "theme.split": _l("Theme split"),
    "approved": _l("Approved"),
    "pending": _l("Waiting"),
    "hidden": _l("Hidden"),
    "parents": _l("Parents"),
    "young": _l("Young people"),
    "everyone": _l("Everyone"),
    "pre": _l("Before publishing"),
    "post": _l("After publishing"),
    "da": _l("Danish"),
    "en": _l("English"),
}


def action_label(action: str) -> str:
    """The action in words, else its code."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def target_label(target_type: str | None, target_id: int | None) -> str:
    """E.g. "Svar 12"; empty without a target."""
    if not target_type:
        return ""
    label = TARGET_LABELS.get(target_type)
    name = str(label) if label is not None else target_type
    return f"{name} {target_id}" if target_id is not None else name


def key_label(key: str) -> str:
    """A recorded field's name in words, else the key."""
    label = KEY_LABELS.get(key)
    return str(label) if label is not None else key


def value_label(value: Any) -> str:
    """A recorded value in words: yes/no, a label for a code, a time in Copenhagen time."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str):
        if value in VALUE_LABELS:
            return str(VALUE_LABELS[value])
        moment = _as_datetime(value)
        if moment is not None:
            return format_datetime(moment, "d. MMM y HH:mm")
        return value
    if isinstance(value, list):
        return ", ".join(value_label(item) for item in value)
    return str(value)


def _as_datetime(value: str) -> datetime | None:
    """An ISO time with a time zone (as the log stores them), else None."""
    if len(value) < 19 or value[4] != "-" or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
