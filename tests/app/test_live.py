"""The live wall: page, polling endpoint, server-sent events and the read service."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.live import views as live_views
from surveys.live import (
    CLOUD_MAX_THEMES,
    MAX_LOOKBACK,
    changes_since,
    cloud_size,
    from_millis,
    latest_notes,
    theme_cloud,
    to_millis,
)
from surveys.models import (
    AnswerStatus,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    WallReply,
    theme_scope_key,
    utcnow,
)
from tests.factories import make_answer, make_wall


def _events(body: str) -> list[tuple[str, dict[str, object], str | None]]:
    """Parse a text/event-stream body into (event, data, id)."""
    events = []
    for block in body.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.lstrip()
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"]), fields.get("id")))
    return events


@pytest.fixture
def short_streams(app: Flask) -> Flask:
    app.config.update(LIVE_STREAM_SECONDS=0.4, LIVE_POLL_SECONDS=0.1, LIVE_HEARTBEAT_SECONDS=10)
    return app


# --- read service ---


def test_cursor_parsing_is_clamped() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert from_millis(to_millis(now - timedelta(minutes=1)), now) == now - timedelta(minutes=1)
    assert from_millis(to_millis(now + timedelta(days=1)), now) == now
    assert from_millis(0, now) == now - MAX_LOOKBACK
    for bad in (None, "abc", "", True, "1e400"):
        assert from_millis(bad, now) is None


def test_changes_only_show_approved_text_in_publication_order(session: Session) -> None:
    wall = make_wall(session)
    start = utcnow()
    old_pending = make_answer(
        session,
        wall,
        "Ventede længe",
        status=AnswerStatus.PENDING,
        created_at=start - timedelta(hours=3),
    )
    make_answer(session, wall, "Ny og godkendt", created_at=start + timedelta(seconds=1))
    make_answer(session, wall, "Ny og ventende", status=AnswerStatus.PENDING)
    old_pending.status = AnswerStatus.APPROVED
    old_pending.moderated_at = start + timedelta(seconds=2)
    session.commit()
    changes = changes_since(session, wall.id, start)
    assert [n.text for n in changes.notes] == ["Ny og godkendt", "Ventede længe"]
    assert changes.removed == []
    # Taken down by a moderator: only its id goes out, never its text.
    old_pending.status = AnswerStatus.HIDDEN
    old_pending.moderated_at = utcnow()
    session.commit()
    later = changes_since(session, wall.id, start)
    assert [n.text for n in later.notes] == ["Ny og godkendt"]
    assert later.removed == [old_pending.id]


def test_redaction_changes_the_note_version(session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall, "Ring til Mette på 12345678")
    before = changes_since(session, wall.id, utcnow() - timedelta(minutes=1)).notes[0]
    answer.text = "Ring til [navn] på [telefon]"
    answer.redacted_at = utcnow()
    session.commit()
    after = changes_since(session, wall.id, utcnow()).notes[0]
    assert after.id == before.id and after.version != before.version
    assert after.text == "Ring til [navn] på [telefon]"


def test_latest_notes_filter_by_prompt(session: Session) -> None:
    wall = make_wall(session)
    first, second = wall.prompts
    make_answer(session, wall, "Første", prompt=first)
    make_answer(session, wall, "Anden", prompt=second)
    make_answer(session, wall, "Skjult", prompt=second, status=AnswerStatus.HIDDEN)
    assert [n.text for n in latest_notes(session, wall.id, prompt_id=second.id)] == ["Anden"]
    assert len(latest_notes(session, wall.id)) == 2


# --- the page ---


def test_live_page_shows_only_approved_answers_large(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "live-vaeg", title="Unge stemmer")
    make_answer(session, wall, "Godkendt note")
    make_answer(session, wall, "Ventende note", status=AnswerStatus.PENDING)
    make_answer(session, wall, "Skjult note", status=AnswerStatus.HIDDEN)
    session.add(WallReply(wall_id=wall.id, text="Vi har hørt jer: ny klub åbner i maj."))
    session.commit()
    response = client.get("/live/live-vaeg")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Godkendt note" in html
    assert "Ventende note" not in html and "Skjult note" not in html
    assert "Vi har hørt jer" in html
    assert 'data-events="/live/live-vaeg/events"' in html
    assert 'src="/w/live-vaeg/qr.svg"' in html
    assert "localhost/w/live-vaeg" in html
    assert "Tilgængelighedserklæring" in html


def test_live_page_filter_by_prompt(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "filter")
    first, second = wall.prompts
    make_answer(session, wall, "Om det første", prompt=first)
    make_answer(session, wall, "Om det andet", prompt=second)
    html = client.get(f"/live/filter?prompt={second.id}").get_data(as_text=True)
    assert "Om det andet" in html and "Om det første" not in html
    assert f'data-events="/live/filter/events?prompt={second.id}"' in html
    assert 'aria-current="page"' in html


def test_unknown_live_wall_is_404(client: FlaskClient) -> None:
    assert client.get("/live/findes-ikke").status_code == 404
    assert client.get("/live/findes-ikke/events").status_code == 404


# --- polling fallback ---


def test_updates_since_a_cursor(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "poll")
    page = client.get("/live/poll").get_data(as_text=True)
    cursor = page.split('data-cursor="')[1].split('"')[0]
    make_answer(session, wall, "Ny efter siden blev vist")
    make_answer(session, wall, "Venter stadig", status=AnswerStatus.PENDING)
    response = client.get(f"/live/poll/updates?since={cursor}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert [n["text"] for n in data["notes"]] == ["Ny efter siden blev vist"]
    assert data["notes"][0]["prompt"] == wall.prompts[0].text
    assert data["cursor"] >= int(cursor)
    assert "Venter stadig" not in response.get_data(as_text=True)


# --- server-sent events ---


def test_event_stream_sends_new_approved_answers_and_ends(
    short_streams: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "sse")
    since = to_millis(utcnow() - timedelta(seconds=30))
    make_answer(session, wall, "Kom med i strømmen")
    make_answer(session, wall, "Aldrig i strømmen", status=AnswerStatus.PENDING)
    started = time.monotonic()
    response = client.get(f"/live/sse/events?since={since}")
    body = response.get_data(as_text=True)
    assert time.monotonic() - started < 3, "the stream is bounded"
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert body.startswith("retry: 2000\n\n")
    events = _events(body)
    notes = [data for name, data, _id in events if name == "note"]
    assert [n["text"] for n in notes] == ["Kom med i strømmen"]  # once, though polled often
    assert "Aldrig i strømmen" not in body
    assert any(name == "ping" for name, _data, _id in events)
    assert all(event_id and event_id.isdigit() for _n, _d, event_id in events)


def test_event_stream_resumes_from_last_event_id(
    short_streams: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "resume")
    old = make_answer(session, wall, "Gammel note", created_at=utcnow() - timedelta(minutes=5))
    assert old.id
    resume = to_millis(utcnow() - timedelta(seconds=1))
    make_answer(session, wall, "Kom mens forbindelsen var væk")
    body = client.get(
        "/live/resume/events?since=0", headers={"Last-Event-ID": str(resume)}
    ).get_data(as_text=True)
    texts = [d["text"] for name, d, _ in _events(body) if name == "note"]
    assert texts == ["Kom mens forbindelsen var væk"]


def test_event_stream_tells_the_projector_to_take_down_hidden_answers(
    short_streams: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "ned")
    answer = make_answer(session, wall, "Uheldig note", created_at=utcnow() - timedelta(hours=2))
    answer.status = AnswerStatus.HIDDEN
    answer.moderated_at = utcnow()
    session.commit()
    body = client.get(f"/live/ned/events?since={to_millis(utcnow())}").get_data(as_text=True)
    assert [(name, data) for name, data, _ in _events(body) if name != "ping"] == [
        ("remove", {"id": answer.id})
    ]
    assert "Uheldig" not in body


def test_too_many_streams_are_told_to_poll(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "travl")
    app.config.update(LIVE_MAX_STREAMS=2, LIVE_STREAM_SECONDS=0.1, LIVE_POLL_SECONDS=0.05)
    assert client.get("/live/travl/events").status_code == 200
    with app.app_context():
        hub = live_views._hub()
    assert hub.open_streams == 0  # the finished stream let its place go
    held = [hub.subscribe(wall.id, None, wall.campaign_id) for _ in range(2)]
    response = client.get("/live/travl/events")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert hub.subscribe(wall.id, None, wall.campaign_id) is None
    assert held[0] is not None
    hub.unsubscribe(held[0])
    hub.unsubscribe(held[0])  # twice is harmless
    assert hub.open_streams == 1
    assert client.get("/live/travl/events").status_code == 200


# --- the theme cloud (once themes exist) ---


def _theme_run(
    session: Session,
    wall,
    themes: dict[str, list[int]],
    *,
    wall_scope=False,
    hidden=(),
    unnamed=(),
):
    """A stored run over the wall's campaign (or the wall) with themes labelled by key.

    Staff named every theme (its label) but those in ``unnamed`` (the engine's label only).
    """
    wall_id = wall.id if wall_scope else None
    scope_key = theme_scope_key(wall.campaign_id, wall_id, None)
    run = ThemeRun(campaign_id=wall.campaign_id, wall_id=wall_id, scope_key=scope_key, model=b"")
    session.add(run)
    renamed = {}
    for position, (label, members) in enumerate(themes.items()):
        theme = Theme(key=f"t{position}", position=position, label=label, hidden=label in hidden)
        run.themes.append(theme)
        if label not in unnamed:
            renamed[theme.key] = label
        session.flush()
        for answer_id in members:
            session.add(ThemeAssignment(theme_id=theme.id, answer_id=answer_id, run_id=run.id))
    session.add(
        ThemeCuration(campaign_id=wall.campaign_id, scope_key=scope_key, data={"renamed": renamed})
    )
    session.commit()
    return run


def _ids(session: Session, wall, n: int, **fields) -> list[int]:
    return [make_answer(session, wall, f"note {i}", **fields).id for i in range(n)]


def test_theme_cloud_counts_approved_answers_on_the_wall(session: Session) -> None:
    wall = make_wall(session)
    other_wall = make_wall(session, campaign=wall.campaign)
    assert theme_cloud(session, wall.campaign_id, wall.id) == []  # no run: no cloud
    bus = _ids(session, wall, 12)
    klub = _ids(session, wall, 5)
    few = _ids(session, wall, 4)
    waiting = _ids(session, wall, 3, status=AnswerStatus.PENDING)
    elsewhere = _ids(session, other_wall, 9)
    _theme_run(
        session,
        wall,
        {
            "Bussen": bus,
            "Klubben": klub[:4] + waiting + elsewhere,  # 4 approved here: too few
            "Skjult": bus,
            "Små": few,
            "Hal": bus[:6],
        },
        hidden={"Skjult"},
    )
    cloud = theme_cloud(session, wall.campaign_id, wall.id)
    assert [(t.label, t.count, t.size) for t in cloud] == [("Bussen", 12, 6), ("Hal", 6, 3)]
    # Another wall of the campaign counts its own answers in the campaign's run.
    assert [(t.label, t.count) for t in theme_cloud(session, wall.campaign_id, other_wall.id)] == [
        ("Klubben", 9)
    ]
    # A run of the wall itself wins over the campaign's.
    _theme_run(session, wall, {"Væggens eget tema": bus[:5]}, wall_scope=True)
    assert [t.label for t in theme_cloud(session, wall.campaign_id, wall.id)] == [
        "Væggens eget tema"
    ]
    assert (cloud_size(1, 40), cloud_size(20, 40), cloud_size(40, 40), cloud_size(3, 0)) == (
        1,
        3,
        6,
        1,
    )


def test_theme_cloud_shows_only_themes_staff_named(session: Session) -> None:
    wall = make_wall(session)
    ids = _ids(session, wall, 6)
    _theme_run(
        session,
        wall,
        {"mad · sove · kantine": ids, "Bedre mad i kantinen": ids, "lort · skole": ids},
        unnamed={"mad · sove · kantine", "lort · skole"},
    )
    assert [t.label for t in theme_cloud(session, wall.campaign_id, wall.id)] == [
        "Bedre mad i kantinen"
    ]


def test_no_cloud_before_staff_name_a_theme(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "kun-maskinens-navne")
    _theme_run(
        session,
        wall,
        {"mad · sove · kantine": _ids(session, wall, 6)},
        unnamed={"mad · sove · kantine"},
    )
    assert theme_cloud(session, wall.campaign_id, wall.id) == []
    html = client.get("/live/kun-maskinens-navne").get_data(as_text=True)
    assert "mad · sove · kantine" not in html and "cloud-theme" not in html


def test_theme_cloud_is_limited_and_follows_the_prompt_filter(session: Session) -> None:
    wall = make_wall(session)
    first, second = wall.prompts
    on_first = _ids(session, wall, 5, prompt=first)
    on_second = _ids(session, wall, 6, prompt=second)
    themes = {f"Tema {i:02d}": on_first + on_second for i in range(CLOUD_MAX_THEMES + 3)}
    themes["Andet spørgsmål"] = on_second
    _theme_run(session, wall, themes)
    assert len(theme_cloud(session, wall.campaign_id, wall.id)) == CLOUD_MAX_THEMES
    only_first = theme_cloud(session, wall.campaign_id, wall.id, prompt_id=first.id)
    assert "Andet spørgsmål" not in [t.label for t in only_first]
    assert {t.count for t in only_first} == {5}


def test_theme_labels_pass_the_personal_data_guard(session: Session) -> None:
    wall = make_wall(session)
    _theme_run(session, wall, {"Ring på 22 33 44 55": _ids(session, wall, 5)})
    assert [t.label for t in theme_cloud(session, wall.campaign_id, wall.id)] == [
        "Ring på [fjernet]"
    ]


def test_the_cloud_catches_names_in_any_case(session: Session) -> None:
    # A run stored before labels were checked word by word: the guard alone read "lone"
    # written in lower case as an ordinary word.
    wall = make_wall(session)
    ids = _ids(session, wall, 5)
    _theme_run(session, wall, {"råber · lone · solsikken": ids, "LONE": ids, "Sol": ids})
    labels = [t.label for t in theme_cloud(session, wall.campaign_id, wall.id)]
    assert labels == ["råber · [fjernet] · solsikken", "[fjernet]", "Sol"]


def test_live_page_without_a_run_has_no_cloud(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "uden-temaer")
    make_answer(session, wall, "En note")
    html = client.get("/live/uden-temaer").get_data(as_text=True)
    assert 'id="live-themes" aria-labelledby="live-themes-heading" hidden' in html
    assert 'id="live-side" hidden' in html
    assert "cloud-theme" not in html
    data = client.get("/live/uden-temaer/updates").get_json()
    assert data["themes"] == []


def test_live_page_shows_the_cloud_escaped_with_size_classes(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "med-temaer")
    bus = _ids(session, wall, 10)
    _theme_run(session, wall, {"<script>alert(1)</script>": bus, "Hal": bus[:5], "Lille": bus[:2]})
    html = client.get("/live/med-temaer").get_data(as_text=True)
    assert "Det skriver I om" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert 'class="cloud-theme cloud-size-6"' in html and 'class="cloud-theme cloud-size-3"' in html
    assert "Lille" not in html  # 2 answers: never shown
    assert "10 svar" in html
    assert "style=" not in html
    data = client.get("/live/med-temaer/updates").get_json()
    assert [(t["label"], t["count"], t["size"]) for t in data["themes"]] == [
        ("<script>alert(1)</script>", 10, 6),
        ("Hal", 5, 3),
    ]


def test_event_stream_sends_the_theme_cloud(
    short_streams: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "sky")
    ids = _ids(session, wall, 6, created_at=utcnow() - timedelta(hours=2))
    _theme_run(session, wall, {"Skoven": ids})
    body = client.get(f"/live/sky/events?since={to_millis(utcnow())}").get_data(as_text=True)
    themes = [data for name, data, _ in _events(body) if name == "themes"]
    assert themes == [
        {"themes": [{"id": themes[0]["themes"][0]["id"], "label": "Skoven", "count": 6, "size": 6}]}
    ]
    # Without themes the stream is as before: no themes event.
    make_wall(session, "sky-uden")
    body = client.get("/live/sky-uden/events").get_data(as_text=True)
    assert [name for name, _d, _i in _events(body) if name == "themes"] == []


def test_polled_theme_cloud_is_cached_for_a_few_seconds(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, "cache")
    app.config["LIVE_THEMES_SECONDS"] = 60
    assert client.get("/live/cache/updates").get_json()["themes"] == []
    _theme_run(session, wall, {"Skaterbanen": _ids(session, wall, 5)})
    # A room of polling projectors shares one count per wall and period ...
    assert client.get("/live/cache/updates").get_json()["themes"] == []
    # ... while a reload shows the cloud at once, and the next period's polls too.
    assert "Skaterbanen" in client.get("/live/cache").get_data(as_text=True)
    app.config["LIVE_THEMES_SECONDS"] = 0
    themes = client.get("/live/cache/updates").get_json()["themes"]
    assert [t["label"] for t in themes] == ["Skaterbanen"]
