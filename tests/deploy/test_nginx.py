"""deploy/nginx/stemmer.conf in front of the app, as in production: Debian's nginx with a
self-signed certificate made here, gunicorn behind it on loopback, and requests through it.

The committed file is used as it is; only its ports, paths and name are substituted.
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import Session

from surveys.models import Moderation
from tests.factories import make_answer, make_wall
from tests.load.servers import ROOT, free_port, gunicorn

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        NGINX is None,
        reason="nginx is not installed (Debian: apt-get install nginx-light; make system-deps)",
    ),
]

CONFIG = ROOT / "deploy" / "nginx" / "stemmer.conf"
HOST = "127.0.0.1"
#: Answers per client address while the test runs (the app's rate limit).
ANSWERS_PER_MINUTE = 3


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def render_config(
    *, https_port: int, http_port: int, app_port: int, cert: Path, key: Path, logs: Path
) -> str:
    """deploy/nginx/stemmer.conf with this test's ports, paths and name; each placeholder
    must be in the file (else the test and the file have drifted apart)."""
    text = CONFIG.read_text()
    substitutions = {
        "listen 443 ssl http2;": f"listen {HOST}:{https_port} ssl http2;",
        "listen 80;": f"listen {HOST}:{http_port};",
        "server 127.0.0.1:8000;": f"server {HOST}:{app_port};",
        "server_name stemmer.example.dk;": "server_name localhost;",
        "/etc/ssl/stemmer/fullchain.pem": str(cert),
        "/etc/ssl/stemmer/privkey.pem": str(key),
        "/srv/stemmer/app/static/": f"{ROOT}/app/static/",
        "/var/log/nginx/stemmer.access.log": str(logs / "access.log"),
    }
    for placeholder, value in substitutions.items():
        assert placeholder in text, f"{placeholder!r} is no longer in {CONFIG}"
        text = text.replace(placeholder, value)
    # IPv6 listeners are left out: the test listens on IPv4 loopback only.
    return "\n".join(line for line in text.splitlines() if "listen [::]" not in line)


@dataclass
class Site:
    """nginx on ``https_port`` (and ``http_port``) in front of the app."""

    https_port: int
    http_port: int
    cert: Path
    access_log: Path
    app_log: Path

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[Site]:
    cert, key = make_certificate(tmp_path)
    app_env = {
        "STEMMER_TRUSTED_PROXIES": "1",
        "STEMMER_BASE_URL": "https://localhost",
        "RATELIMIT_ENABLED": "1",
        "RATELIMIT_ANSWERS": f"{ANSWERS_PER_MINUTE} per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    with gunicorn(
        database_url, tmp_path, workers=1, threads=8, env=app_env, start_timeout=240
    ) as app_server:
        app_port = int(app_server.url.rsplit(":", 1)[1])
        https_port, http_port = free_port(), free_port()
        (tmp_path / "stemmer.conf").write_text(
            render_config(
                https_port=https_port,
                http_port=http_port,
                app_port=app_port,
                cert=cert,
                key=key,
                logs=tmp_path,
            )
        )
        temp_paths = "\n".join(
            f"    {kind}_temp_path {tmp_path / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # As root the master hands the workers to "nobody", who may not read the test's files.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (tmp_path / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {tmp_path / 'nginx.pid'};\n"
            f"error_log {tmp_path / 'error.log'} info;\n"
            "events { worker_connections 64; }\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            f"{temp_paths}\n    include {tmp_path / 'stemmer.conf'};\n}}\n"
        )
        command = [NGINX or "nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        with open(tmp_path / "nginx.out", "wb") as output:
            nginx = subprocess.Popen(
                [*command, "-g", "daemon off;"], stdout=output, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection((HOST, https_port), timeout=1).close()
                    break
                except OSError:
                    assert nginx.poll() is None, (tmp_path / "nginx.out").read_text()
                    assert time.monotonic() < deadline, "nginx did not start listening"
                    time.sleep(0.05)
            yield Site(https_port, http_port, cert, tmp_path / "access.log", app_server.log)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def _post_answer(site: Site, source: str, payload: dict[str, object], **headers: str) -> int:
    """POST an answer through nginx from the loopback address ``source`` (the client's
    address as nginx sees it); the response's status."""
    connection = http.client.HTTPSConnection(
        HOST, site.https_port, context=site.context(), source_address=(source, 0), timeout=15
    )
    try:
        connection.request(
            "POST",
            f"/api/v1/walls/{payload.pop('slug')}/answers",
            body=json.dumps(payload),
            headers={"Content-Type": "application/json", **headers},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_nginx_in_front_of_the_app(session: Session, site: Site) -> None:
    wall = make_wall(session, "bag-nginx", moderation=Moderation.POST)
    make_answer(session, wall, "Et tidligere svar")
    prompt_id = wall.prompts[0].id
    verify = str(site.cert)

    # HTTPS answers; the app sees the https scheme (it sends HSTS, once, and marks the
    # device cookie Secure only on HTTPS requests) and its security headers arrive.
    page = requests.get(f"{site.url}/w/bag-nginx", verify=verify, timeout=15)
    assert page.status_code == 200
    assert "Et tidligere svar" in page.text
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    device_cookie = next(c for c in page.cookies if c.name == "stemmer_device")
    assert device_cookie.secure

    # Neither access log holds a client's address or a query string (a kiosk's link carries
    # its device token).
    kiosk_like = requests.get(
        f"{site.url}/w/bag-nginx?device=hemmelig-enhed", verify=verify, timeout=15
    )
    assert kiosk_like.status_code == 200
    time.sleep(0.5)  # nginx writes its log line after the response
    for log in (site.access_log, site.app_log):
        requests_logged = [line for line in log.read_text().splitlines() if '"GET /' in line]
        assert any("/w/bag-nginx" in line for line in requests_logged), log
        for line in requests_logged:
            assert "hemmelig-enhed" not in line and HOST not in line, line

    # Static files come from nginx itself, with HSTS too.
    static = requests.get(f"{site.url}/static/css/stemmer.css", verify=verify, timeout=15)
    assert static.status_code == 200
    assert static.content == (ROOT / "app/static/css/stemmer.css").read_bytes()
    assert static.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert static.headers["X-Content-Type-Options"] == "nosniff"

    # Plain HTTP is sent to HTTPS, path and query kept.
    plain = requests.get(
        f"http://{HOST}:{site.http_port}/w/bag-nginx?sprog=en", allow_redirects=False, timeout=15
    )
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://{HOST}/w/bag-nginx?sprog=en"

    # The projector's event stream arrives unbuffered: the catch-up and a new answer come
    # through nginx while the stream is still open (it lasts LIVE_STREAM_SECONDS, 55 s).
    with requests.get(
        f"{site.url}/live/bag-nginx/events",
        headers={"Accept": "text/event-stream"},
        stream=True,
        verify=verify,
        timeout=(15, 15),
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        opened = time.monotonic()
        chunks = stream.iter_content(chunk_size=None)
        received = b""
        while b"Et tidligere svar" not in received:
            received += next(chunks)
        assert time.monotonic() - opened < 10
        sent = time.monotonic()
        status = _post_answer(
            site,
            "127.0.0.1",
            {
                "slug": "bag-nginx",
                "prompt_id": prompt_id,
                "text": "Nyt svar gennem nginx",
                "client_submission_id": "nginx-live-1",
            },
        )
        assert status == 201
        while b"Nyt svar gennem nginx" not in received:
            received += next(chunks)
        assert time.monotonic() - sent < 10

    # The app counts answers by the client's address as nginx saw it, not nginx's own, and
    # an X-Forwarded-For the client sends does not change it.
    def answer(source: str, number: int, **headers: str) -> int:
        payload: dict[str, object] = {
            "slug": "bag-nginx",
            "prompt_id": prompt_id,
            "text": f"Svar nummer {number}",
            "client_submission_id": f"nginx-{source}-{number}",
        }
        return _post_answer(site, source, payload, **headers)

    statuses = [answer("127.0.0.2", n) for n in range(ANSWERS_PER_MINUTE + 1)]
    assert statuses == [201] * ANSWERS_PER_MINUTE + [429]
    assert answer("127.0.0.2", 10, **{"X-Forwarded-For": "203.0.113.7"}) == 429
    assert answer("127.0.0.3", 1) == 201

    # Request bodies: 2 MB in general, 26 MB for the file import; more is refused by nginx
    # with 413 before the app sees it.
    too_big = requests.post(
        f"{site.url}/api/v1/walls/bag-nginx/answers",
        data=b"x" * (3 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
        verify=verify,
        timeout=30,
    )
    assert too_big.status_code == 413
    import_url = f"{site.url}/staff/walls/{wall.id}/import"
    upload = {"file": ("svar.csv", b"x" * (3 * 1024 * 1024))}
    fits = requests.post(import_url, files=upload, verify=verify, timeout=30)
    assert fits.status_code != 413  # reaches the app (which wants a signed-in member)
    upload = {"file": ("svar.csv", b"x" * (27 * 1024 * 1024))}
    over = requests.post(import_url, files=upload, verify=verify, timeout=60)
    assert over.status_code == 413
    assert "nginx" in over.text
