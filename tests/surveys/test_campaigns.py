"""Campaigns, walls and prompts as staff edit them; deletion with all data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import campaigns
from surveys.campaigns import CampaignInput, PromptsLocked, WallInput
from surveys.errors import Conflict, InvalidInput, NotFound
from surveys.models import (
    Answer,
    Audience,
    AuditEntry,
    Campaign,
    KioskDevice,
    Moderation,
    Prompt,
    Reaction,
    Wall,
    WallReply,
    utcnow,
)
from tests.factories import make_answer, make_organisation, make_staff, make_wall


def _wall_input(**changes) -> WallInput:
    values = dict(
        slug="unge-2026",
        title="Unge stemmer",
        audience=Audience.YOUNG,
        moderation=Moderation.POST,
        languages=["da"],
        profile_questions=["age_group", "area"],
        areas=[" Rønne ", "Nexø", "Rønne", ""],
    )
    values.update(changes)
    return WallInput(**values)


def test_create_campaign_and_wall(session: Session) -> None:
    manager = make_staff(session, role="manager")
    campaign = campaigns.create_campaign(
        session, manager, CampaignInput(slug=" Boern-2026 ", title="  Børn   2026 ")
    )
    assert (campaign.slug, campaign.title) == ("boern-2026", "Børn 2026")
    assert campaign.organisation_id == manager.organisation_id
    wall = campaigns.create_wall(
        session, manager, campaign, _wall_input(), ["Hvad gør din dag god?", "", "Hvad mangler?"]
    )
    assert [p.text for p in wall.prompts] == ["Hvad gør din dag god?", "Hvad mangler?"]
    assert [p.position for p in wall.prompts] == [0, 1]
    assert wall.areas == ["Rønne", "Nexø"]
    assert wall.languages == ["da"] and wall.language == "da"
    assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "campaign.create",
        "wall.create",
    ]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"slug": "Not a slug!"}, "invalid_slug"),
        ({"title": "   "}, "invalid_title"),
        ({"languages": []}, "invalid_languages"),
        ({"languages": ["da", "klingon"]}, "invalid_languages"),
        ({"profile_questions": ["shoe_size"]}, "invalid_profile_questions"),
        ({"areas": []}, "invalid_areas"),
        ({"areas": ["x" * 101]}, "invalid_areas"),
        (
            {"opens_at": utcnow(), "closes_at": utcnow() - timedelta(days=1)},
            "invalid_window",
        ),
    ],
)
def test_wall_validation(session: Session, changes: dict, code: str) -> None:
    manager = make_staff(session, role="manager")
    campaign = campaigns.create_campaign(session, manager, CampaignInput(slug="c", title="C"))
    with pytest.raises(InvalidInput) as caught:
        campaigns.create_wall(session, manager, campaign, _wall_input(**changes), ["Spørgsmål?"])
    assert caught.value.code == code


def test_wall_needs_a_prompt_and_a_free_slug(session: Session) -> None:
    manager = make_staff(session, role="manager")
    campaign = campaigns.create_campaign(session, manager, CampaignInput(slug="c", title="C"))
    with pytest.raises(InvalidInput):
        campaigns.create_wall(session, manager, campaign, _wall_input(), ["", "  "])
    make_wall(session, "taken")
    with pytest.raises(Conflict):
        campaigns.create_wall(session, manager, campaign, _wall_input(slug="taken"), ["Q?"])
    with pytest.raises(InvalidInput):
        campaigns.create_campaign(
            session, manager, CampaignInput(slug="d", title="D", retention_months=0)
        )


def test_prompts_are_editable_until_the_first_answer(session: Session) -> None:
    wall = make_wall(session, prompts=("En?", "To?", "Tre?"))
    manager = make_staff(session, wall.campaign.organisation, "manager")
    first, second, third = wall.prompts
    campaigns.update_prompt(session, manager, first, "Første?")
    campaigns.move_prompt(session, manager, third, -1)
    campaigns.add_prompt(session, manager, wall, "Fire?")
    campaigns.delete_prompt(session, manager, second)
    session.expire_all()
    wall = session.get(Wall, wall.id)
    assert [(p.position, p.text) for p in wall.prompts] == [
        (0, "Første?"),
        (1, "Tre?"),
        (2, "Fire?"),
    ]
    make_answer(session, wall, prompt=wall.prompts[0])
    for attempt in (
        lambda: campaigns.update_prompt(session, manager, wall.prompts[0], "Ændret?"),
        lambda: campaigns.move_prompt(session, manager, wall.prompts[1], -1),
        lambda: campaigns.add_prompt(session, manager, wall, "Fem?"),
        lambda: campaigns.delete_prompt(session, manager, wall.prompts[2]),
    ):
        with pytest.raises(PromptsLocked):
            attempt()
    session.expire_all()
    assert [p.text for p in session.get(Wall, wall.id).prompts] == ["Første?", "Tre?", "Fire?"]


def test_the_last_prompt_stays(session: Session) -> None:
    wall = make_wall(session, prompts=("Kun én?",))
    manager = make_staff(session, wall.campaign.organisation, "manager")
    with pytest.raises(Conflict):
        campaigns.delete_prompt(session, manager, wall.prompts[0])


def test_open_and_close_now(session: Session) -> None:
    now = utcnow()
    wall = make_wall(session, opens_at=now + timedelta(days=3))
    manager = make_staff(session, wall.campaign.organisation, "manager")
    campaigns.set_window(session, manager, wall, "open", now=now)
    assert wall.is_open(now)
    campaigns.set_window(session, manager, wall, "close", now=now)
    assert wall.has_closed(now)
    campaigns.set_window(session, manager, wall, "open", now=now)
    assert wall.is_open(now) and wall.closes_at is None
    with pytest.raises(InvalidInput):
        campaigns.set_window(session, manager, wall, "explode", now=now)


def test_lookups_and_changes_are_scoped_to_the_organisation(session: Session) -> None:
    wall = make_wall(session)
    reply = WallReply(wall_id=wall.id, text="Tak")
    device = KioskDevice(wall_id=wall.id, name="Tablet", token="tok-0123456789abcdef")
    session.add_all([reply, device])
    session.commit()
    stranger = make_staff(session, make_organisation(session), "admin")
    org = stranger.organisation_id
    for lookup, target in [
        (campaigns.get_campaign, wall.campaign_id),
        (campaigns.get_wall, wall.id),
        (campaigns.get_prompt, wall.prompts[0].id),
        (campaigns.get_device, device.id),
        (campaigns.get_reply, reply.id),
    ]:
        with pytest.raises(NotFound):
            lookup(session, org, target)
    with pytest.raises(NotFound):
        campaigns.update_wall(session, stranger, wall, _wall_input())
    with pytest.raises(NotFound):
        campaigns.revoke_device(session, stranger, device)
    with pytest.raises(NotFound):
        campaigns.delete_campaign(session, stranger, wall.campaign, wall.campaign.slug)
    assert device.revoked_at is None


def test_devices_and_replies_are_audited(session: Session) -> None:
    wall = make_wall(session)
    manager = make_staff(session, wall.campaign.organisation, "manager")
    device = campaigns.add_device(session, manager, wall, "Sundhedsplejen", 90)
    campaigns.revoke_device(session, manager, device)
    reply = campaigns.add_reply(session, manager, wall, "Det har vi hørt – det gør vi nu")
    campaigns.hide_reply(session, manager, reply)
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["device.create", "device.revoke", "reply.create", "reply.hide"]
    assert device.revoked_at is not None and reply.is_hidden


@pytest.mark.parametrize(
    ("text", "translations"),
    [
        ("Pædagogen Lone i Solsikken råber ad børnene – det tager vi op", {}),
        ("Ring til Mette på 22 33 44 55", {}),
        ("Tak for jeres svar – det gør vi nu", {"en": "Call Mette on 22 33 44 55"}),
    ],
)
def test_a_reply_with_personal_data_is_refused(
    session: Session, text: str, translations: dict[str, str]
) -> None:
    """A reply is shown to everyone who opens the wall: the guard checks it as it checks the
    replies under one answer or one theme, in every language the wall offers."""
    wall = make_wall(session)
    manager = make_staff(session, wall.campaign.organisation, "manager")
    with pytest.raises(InvalidInput) as refused:
        campaigns.add_reply(session, manager, wall, text, translations)
    assert refused.value.code == "reply_personal_data"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(WallReply)) == 0
    # Place names and the municipality's own words are no personal data.
    fine = "Tak til alle forældre i Rønne og Nexø: Sundhedsplejen holder åbent hus hver tirsdag"
    assert campaigns.add_reply(session, manager, wall, fine).text == fine


def test_delete_campaign_with_all_its_data(session: Session) -> None:
    wall = make_wall(session)
    keep = make_wall(session, organisation=wall.campaign.organisation)
    admin = make_staff(session, wall.campaign.organisation, "admin")
    answer = make_answer(session, wall)
    kept_answer = make_answer(session, keep)
    session.add_all(
        [
            Reaction(answer_id=answer.id, wall_id=answer.wall_id, device_key="device-key-123"),
            KioskDevice(wall_id=wall.id, name="Tablet", token="tok-abcdef0123456789"),
            WallReply(wall_id=wall.id, text="Tak"),
        ]
    )
    session.commit()
    campaign_id = wall.campaign_id
    with pytest.raises(InvalidInput):
        campaigns.delete_campaign(session, admin, wall.campaign, "wrong")
    campaigns.delete_campaign(session, admin, wall.campaign, wall.campaign.slug)

    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model))

    assert session.get(Campaign, campaign_id) is None
    assert count(Wall) == 1 and count(Prompt) == 2 and count(Answer) == 1
    assert count(Reaction) == 0 and count(KioskDevice) == 0 and count(WallReply) == 0
    assert session.get(Answer, kept_answer.id) is not None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "campaign.delete")).one()
    assert entry.before["answers"] == 1 and entry.before["walls"] == 1
