"""A new process gets ready before its first request (app.warmup, run by gunicorn's
post_worker_init): templates compiled, translations and locale data loaded, a wall page shown."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel import localedata
from flask import Flask
from flask_babel import get_domain
from sqlalchemy.orm import Session

from app.warmup import warm_up
from surveys.models import Moderation
from tests.factories import make_answer, make_wall


def _count_compiles(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    env = app.jinja_env
    compiled: list[str] = []
    compile_ = env.compile

    def counting(source: Any, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(name))
        return compile_(source, name, *args, **kwargs)

    monkeypatch.setattr(env, "compile", counting)
    return compiled


def test_after_warm_up_no_page_compiles_a_template(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_wall(session, moderation=Moderation.POST)
    make_answer(session, other, "Flere bænke ved søen")
    make_wall(session)  # the newest: the one warm_up shows
    names = warm_up(app)
    assert "participate/wall.html" in names and "base.html" in names
    compiled = _count_compiles(app, monkeypatch)
    client = app.test_client()
    for path in (f"/w/{other.slug}", f"/w/{other.slug}?lang=en", "/staff/login", "/nope"):
        assert client.get(path).status_code in (200, 404)
    assert compiled == []


def test_without_warm_up_the_first_page_compiles_its_templates(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session)
    compiled = _count_compiles(app, monkeypatch)
    assert app.test_client().get(f"/w/{wall.slug}").status_code == 200
    assert "participate/wall.html" in compiled  # what warm_up saves the first visitor


def test_warm_up_loads_every_languages_translations_and_locale_data(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localedata, "_cache", {})  # as in a new process
    with app.app_context():
        domain = get_domain()
        monkeypatch.setattr(domain, "cache", {})
    warm_up(app)
    assert {"da", "en"} <= set(localedata._cache)
    assert {locale for locale, _ in domain.cache} == {"da", "en"}


def test_warm_up_shows_the_newest_wall_once(app: Flask, session: Session) -> None:
    make_wall(session, slug="aeldre")
    newest = make_wall(session, slug="nyeste", moderation=Moderation.POST)
    make_answer(session, newest, "Legepladsen ved havnen")
    warm_up(app)
    pages = app.extensions["stemmer.wall_pages"].cache
    assert len(pages) == 1  # the newest wall's page, ready for its first visitor
    page = app.test_client().get("/w/nyeste").get_data(as_text=True)
    assert "Legepladsen ved havnen" in page


def test_warm_up_without_walls_shows_no_page(app: Flask) -> None:
    assert warm_up(app)
    assert "stemmer.wall_pages" not in app.extensions


def test_a_database_that_cannot_be_reached_only_skips_the_wall_page(
    make_app: Callable[..., Flask], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'stemmer.db'}")
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        names = warm_up(app)
    assert "participate/wall.html" in names
    assert "the database failed" in caplog.text
    assert "stemmer.wall_pages" not in app.extensions
