"""app/config.py lists every setting once; README.md's settings tables say the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import SETTINGS, load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_settings() -> dict[str, str]:
    """Name -> default (backticks removed) of every row of README's settings tables: the
    tables whose header is ``| variable | default | meaning |`` or ``| key | default | ...``."""
    found: dict[str, str] = {}
    in_table = False
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            in_table = False
        elif cells[:3] in (["variable", "default", "meaning"], ["key", "default", "meaning"]):
            in_table = True
        elif in_table and not set(cells[0]) <= {"-", " "}:
            default = cells[1].replace("`", "").strip()
            for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]):
                assert name not in found, f"README lists {name} twice"
                found[name] = default
    return found


def test_readme_lists_every_setting_with_its_default() -> None:
    documented = readme_settings()
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names)), "app/config.py lists a setting twice"
    missing = sorted(set(names) - set(documented))
    stale = sorted(set(documented) - set(names))
    assert not missing, f"settings missing from README.md: {missing}"
    assert not stale, f"README.md lists settings app/config.py does not know: {stale}"
    wrong = {
        setting.name: (documented[setting.name], setting.shown_default)
        for setting in SETTINGS
        if documented[setting.name] != setting.shown_default
    }
    assert not wrong, f"README.md's default differs (README, app/config.py): {wrong}"


def test_the_readme_parser_sees_the_tables() -> None:
    documented = readme_settings()
    assert documented["DATABASE_POOL_SIZE"] == "16 (4 with SQLite)"
    assert documented["RATELIMIT_LOGIN"] == "20 per minute;200 per hour"
    assert documented["LIVE_NOTES_SHOWN"] == "24"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for setting in SETTINGS:
        if setting.env:
            monkeypatch.delenv(setting.env, raising=False)
    return monkeypatch


def test_every_key_has_its_default(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = load_config(str(tmp_path))
    for setting in SETTINGS:
        if setting.key is not None and setting.default is not None:
            assert config[setting.key] == setting.default, setting.key
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path}/stemmer.db"
    assert config["BASE_URL"] == "http://127.0.0.1:5000"
    assert config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert config["RATELIMIT_ENABLED"] is True
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert (config["DATABASE_POOL_SIZE"], config["DATABASE_MAX_OVERFLOW"]) == (4, 0)
    postgresql = load_config(str(tmp_path), {"DATABASE_URL": "postgresql://db/stemmer"})
    assert (postgresql["DATABASE_POOL_SIZE"], postgresql["DATABASE_MAX_OVERFLOW"]) == (16, 4)
    assert config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert load_config(str(tmp_path), {"TESTING": True})["RATELIMIT_ENABLED"] is False


def test_environment_variables_fill_their_keys(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("STEMMER_SECURE_COOKIES", "1")
    clean_env.setenv("STEMMER_HSTS_SECONDS", "60")
    clean_env.setenv("DATABASE_LOCK_TIMEOUT", "0.5")
    clean_env.setenv("STEMMER_TRUSTED_HOSTS", "a.example, .b.example")
    clean_env.setenv("RATELIMIT_ENABLED", "yes")
    clean_env.setenv("STEMMER_BACKUP_DIR", "/srv/backups")
    clean_env.setenv("RATELIMIT_LOGIN", "")  # empty: unset
    config = load_config(str(tmp_path), {"SECRET_KEY": "x", "TESTING": True})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["HSTS_SECONDS"] == 60
    assert config["DATABASE_LOCK_TIMEOUT"] == 0.5
    assert config["TRUSTED_HOSTS"] == ["127.0.0.1", "a.example", ".b.example"]
    assert config["RATELIMIT_ENABLED"] is True
    assert config["BACKUP_DIR"] == "/srv/backups"
    assert config["RATELIMIT_LOGIN"] == "20 per minute;200 per hour"
    # create_app(config) wins over the environment, also with a false value.
    config = load_config(str(tmp_path), {"SECRET_KEY": "x", "RATELIMIT_ENABLED": False})
    assert config["RATELIMIT_ENABLED"] is False
