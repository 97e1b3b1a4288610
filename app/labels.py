"""The words shown for the codes answers carry (audience, group, channel), in one place for the
staff pages, the report and the public page "Det har vi hørt"."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from surveys.insights import OTHER_KEY
from surveys.models import Audience, Channel
from surveys.report import PROFESSIONAL_KEY

#: Who a wall asks.
AUDIENCE_LABELS = {
    Audience.PARENTS.value: _l("Parents"),
    Audience.YOUNG.value: _l("Young people"),
    Audience.EVERYONE.value: _l("Everyone"),
}
#: Who a group of answers or a quote is from: the audiences, people who work with children,
#: and the small groups pooled so that no one stands out.
GROUP_LABELS = {
    **AUDIENCE_LABELS,
    PROFESSIONAL_KEY: _l("Works with children"),
    OTHER_KEY: _l("Other (small groups pooled)"),
}
#: How an answer reached us.
CHANNEL_LABELS = {
    Channel.WEB.value: _l("Phone or computer"),
    Channel.KIOSK.value: _l("Kiosk tablet"),
    Channel.EVENT.value: _l("At events"),
    Channel.PAPER.value: _l("Paper notes"),
    Channel.API.value: _l("Another system (API)"),
}
