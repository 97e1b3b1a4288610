"""The files in deploy/ stay in step with the code: systemd accepts the units, the commands
they start exist, and the example environment names only settings the app knows."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from app.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("stemmer-web.service", "stemmer-worker@.service")


def _installed_here(unit: str) -> str:
    """The unit with this checkout's paths instead of /srv/stemmer and /etc/stemmer/env."""
    venv = Path(sys.executable).parent.parent
    text = (DEPLOY / "systemd" / unit).read_text()
    for placeholder in ("/srv/stemmer/.venv", "/srv/stemmer", "/etc/stemmer/env"):
        assert placeholder in text, f"{placeholder} is no longer in {unit}"
    return (
        text.replace("/srv/stemmer/.venv", str(venv))
        .replace("/srv/stemmer", str(ROOT))
        .replace("/etc/stemmer/env", str(DEPLOY / "stemmer.env"))
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    names = []
    for unit in UNITS:
        name = unit.replace("@.", "@1.")  # an instance of the template
        (tmp_path / name).write_text(_installed_here(unit))
        names.append(f"./{name}")
    result = subprocess.run(
        ["systemd-analyze", "verify", *names], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout + result.stderr == ""


def test_the_units_start_what_exists(runner: FlaskCliRunner) -> None:
    web = (DEPLOY / "systemd" / "stemmer-web.service").read_text()
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in web
    assert (ROOT / "gunicorn.conf.py").exists() and (ROOT / "wsgi.py").exists()
    worker = (DEPLOY / "systemd" / "stemmer-worker@.service").read_text()
    assert "flask --app wsgi worker" in worker
    assert runner.invoke(args=["worker", "--help"]).exit_code == 0


def test_the_example_environment_names_known_settings() -> None:
    known = {setting.name for setting in SETTINGS}
    text = (DEPLOY / "stemmer.env").read_text()
    named = re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE)
    assert named
    assert sorted(set(named) - known) == []


def test_the_example_environment_reads_the_same_in_a_shell() -> None:
    """docs/operations.md's ``stemmer`` shell function reads /etc/stemmer/env with bash's
    ``set -a; . FILE``: the values must come out as systemd reads them (plain NAME=value)."""
    path = DEPLOY / "stemmer.env"
    script = f'set -a; . "{path}"; set +a; env -0'
    shell = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env={})
    assert shell.returncode == 0 and shell.stderr == ""
    values = dict(item.split("=", 1) for item in shell.stdout.split("\0") if "=" in item)
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            assert values[name] == value, name
