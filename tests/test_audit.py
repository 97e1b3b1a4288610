"""scripts/audit: pip-audit in CI, trusted only when its vulnerability data is reachable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FAKE = """#!/usr/bin/env bash
# A stand-in for pip-audit: "knows" Jinja2 2.10 when KNOWS=1, finds FINDING in the real audit.
echo "$@" >> "$CALLS"
if [[ " $* " == *" -r "* ]]; then
  [ "$KNOWS" = 1 ] && echo '{"dependencies": [{"vulns": [{"id": "PYSEC-2019-217"}]}]}'
  exit 0
fi
[ -n "$FINDING" ] && { echo "$FINDING"; exit 1; }
echo "No known vulnerabilities found"
"""


def _run(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    fake = tmp_path / "pip-audit"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    done = subprocess.run(
        [str(ROOT / "scripts" / "audit")],
        env={
            **os.environ,
            "PIP_AUDIT": str(fake),
            "CALLS": str(calls),
            "KNOWS": "0",
            "FINDING": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, calls.read_text().splitlines()


def test_the_audit_runs_strictly_when_the_data_is_reachable(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, KNOWS="1")
    assert done.returncode == 0, done.stderr
    assert "--strict" in calls[-1] and "--skip-editable" in calls[-1]
    done, _ = _run(tmp_path, KNOWS="1", FINDING="flask 0.1 PYSEC-0000-1")
    assert done.returncode == 1 and "PYSEC-0000-1" in done.stdout


@pytest.mark.parametrize("required", ["0", "1"])
def test_without_the_data_the_audit_says_so(tmp_path: Path, required: str) -> None:
    done, calls = _run(tmp_path, AUDIT_REQUIRED=required)
    assert len(calls) == 1  # only the probe: an audit without data would look clean
    assert done.returncode == int(required)
    assert "no vulnerability data reachable" in done.stdout + done.stderr
