"""Odd requests through a real gunicorn with the project's gunicorn.conf.py: an over-long URL
is the app's 414 (JSON under /api/, a page elsewhere) with the security headers, not
gunicorn's bare HTML 400; a method the route does not take is 405 with ``Allow``."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy.orm import Session

from tests.factories import make_wall

from .servers import gunicorn

pytestmark = pytest.mark.slow


def _raw(url: str, request_line: str) -> tuple[str, dict[str, str], str]:
    """Send one request line by hand (no client library normalises it): (status line,
    headers with lower-case names, body)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        host = parts.netloc
        connection.sendall(f"{request_line}\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, value in (line.split(":", 1) for line in lines)
    }
    return status, headers, body.decode("utf-8", "replace")


def test_over_long_urls_and_unsupported_methods_get_the_apps_answer(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    make_wall(session, "graenser")
    with gunicorn(database_url, tmp_path, workers=1, threads=2) as server:
        # Over gunicorn's default limit_request_line (4094), under the one configured.
        long_api = "/api/v1/walls/graenser/answers?x=" + "a" * 6000
        api = requests.get(server.url + long_api, timeout=10)
        assert api.status_code == 414
        assert api.json()["error"]["code"] == "request_uri_too_long"
        assert "Content-Security-Policy" in api.headers
        assert api.headers["X-Content-Type-Options"] == "nosniff"
        page = requests.get(server.url + "/w/" + "x" * 6000, timeout=10)
        assert page.status_code == 414 and "text/html" in page.headers["Content-Type"]
        assert "Adressen er for lang." in page.text
        assert "Content-Security-Policy" in page.headers
        # The ordinary-sized request still works.
        assert requests.get(f"{server.url}/api/v1/walls/graenser", timeout=10).status_code == 200

        status, headers, body = _raw(server.url, "TRACE /api/v1/walls/graenser HTTP/1.1")
        assert status.split()[1] == "405", status
        assert {m.strip() for m in headers["allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}
        assert "content-security-policy" in headers
        assert '"method_not_allowed"' in body
        status, headers, _body = _raw(server.url, "TRACE / HTTP/1.1")
        assert status.split()[1] == "405" and "GET" in headers["allow"]
