"""A real OpenID provider for the single sign-on tests: panva's certified oidc-provider (npm,
package.json's devDependencies) started with node on a free loopback port (provider.mjs).

:func:`running_provider` starts it for an app at a base URL; :class:`Provider` is what a
test does with it: choose who signs on next, set its clock or token lifetime, and play the
browser between the app and the provider.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "provider.mjs"
CALLBACK = "/staff/login/sso/callback"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Provider:
    """The running provider, and what the test does as the browser and as the test's admin."""

    issuer: str
    #: The app's base URL, whose callback the provider's clients are registered with.
    app_url: str

    def next_login(self, sub: str, **claims: Any) -> None:
        """The account the provider signs on next, with its claims."""
        response = requests.post(f"{self.issuer}/test/next", json={"sub": sub, "claims": claims})
        assert response.status_code == 204

    def settings(self, **values: Any) -> None:
        """``idTokenTtl`` (seconds) and ``clockOffset`` (seconds the provider's clock is off)."""
        response = requests.post(f"{self.issuer}/test/settings", json=values)
        assert response.status_code == 204

    def authorize(self, url: str) -> str:
        """Visit the provider's authorization URL as a new browser; the URL it sends back."""
        assert url.startswith(f"{self.issuer}/auth?"), url
        browser = requests.Session()
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=10)
            assert response.status_code in (302, 303), response.text[:500]
            url = response.headers["Location"]
            if url.startswith("/"):
                url = self.issuer + url
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider kept redirecting")

    def token_for(self, client_id: str, nonce: str) -> dict[str, Any]:
        """A token response the provider gives another client (the test is that client)."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = {
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid email profile",
            "redirect_uri": self.app_url + CALLBACK,
            "state": "s" * 20,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        back = self.authorize(f"{self.issuer}/auth?{urlencode(query)}")
        code = parse_qs(urlsplit(back).query)["code"][0]
        response = requests.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.app_url + CALLBACK,
                "code_verifier": verifier,
            },
            auth=(client_id, f"{client_id}-secret"),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def app_settings(self, organisation_slug: str) -> dict[str, Any]:
        """An app's settings for single sign-on at this provider as the client ``stemmer``."""
        return {
            "OIDC_DISCOVERY_URL": f"{self.issuer}/.well-known/openid-configuration",
            "OIDC_CLIENT_ID": "stemmer",
            "OIDC_CLIENT_SECRET": "stemmer-secret",
            "OIDC_DISPLAY_NAME": "Aarhus Kommune",
            "OIDC_ORGANISATION": organisation_slug,
        }


@contextmanager
def running_provider(app_url: str) -> Iterator[Provider]:
    """The provider on a free loopback port, with the clients ``stemmer`` and
    ``other-service`` registered for ``app_url``'s callback; stopped afterwards.

    Skips the test without node or the npm package, except in CI (``CI`` set), where it fails.
    """
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        message = "node and npm's oidc-provider (make install) are needed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [node, str(SCRIPT), str(port), app_url + CALLBACK, app_url + "/staff/login"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, "the OpenID provider stopped"
            assert time.monotonic() < deadline, "the OpenID provider did not start"
            time.sleep(0.1)
        yield Provider(issuer, app_url)
    finally:
        process.terminate()
        process.wait(timeout=10)
