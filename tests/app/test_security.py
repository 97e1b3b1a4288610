"""Security headers, the Content-Security-Policy, proxies, rate limits and CSRF."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import kiosk as kiosks
from surveys.models import Answer, KioskDevice, Moderation, Wall
from tests.app.staff_helpers import login
from tests.factories import STAFF_PASSWORD, limited_app, make_answer, make_staff, make_wall

# --- headers and the Content-Security-Policy ---


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    directives = [part.strip().split(" ", 1) for part in policy.split(";")]
    return {name: value for name, value in directives}


@pytest.mark.parametrize("path", ["/", "/w/hdr", "/api/v1/walls/hdr", "/healthz", "/nowhere"])
def test_every_response_carries_the_security_headers(
    client: FlaskClient, session: Session, path: str
) -> None:
    make_wall(session, "hdr")
    response = client.get(path)
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]
    # Plain HTTP (make run on loopback): no HSTS.
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://stemmer.example.dk")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_forwarded_headers_are_ignored_without_trusted_proxies(client: FlaskClient) -> None:
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_proxy_https_and_the_forwarded_host_is_checked(
    make_app: Any, session: Session
) -> None:
    make_wall(session, "proxy")
    client = make_app(
        STEMMER_TRUSTED_PROXIES=1,
        BASE_URL="https://stemmer.kommune.dk",
        TRUSTED_HOSTS=["stemmer.kommune.dk"],
    ).test_client()
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "stemmer.kommune.dk",
        "X-Forwarded-For": "203.0.113.9",
    }
    response = client.get("/w/proxy/poster", headers=headers)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "https://stemmer.kommune.dk/w/proxy" in response.get_data(as_text=True)
    # Links come from the configured base URL; a forwarded host that is not trusted gets 400.
    spoofed = client.get("/w/proxy/poster", headers={**headers, "X-Forwarded-Host": "evil.example"})
    assert spoofed.status_code == 400


def test_frame_ancestors_can_allow_a_municipal_site(make_app: Any) -> None:
    client = make_app(CSP_FRAME_ANCESTORS="https://www.kommune.dk").test_client()
    assert _csp(client.get("/"))["frame-ancestors"] == "https://www.kommune.dk"


class _InlineFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts/styles, handlers, js: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in names
            if names.get("type") in ("application/json", "application/ld+json"):
                self._in_script = False  # data, not code
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}= handler")
            if name == "style":
                self.problems.append(f"{tag} style= attribute")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"{tag} javascript: URL")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]}")


def _inline_problems(html: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(html)
    return finder.problems


def test_the_finder_sees_what_the_csp_blocks() -> None:
    html = (
        '<script>alert(1)</script><p style="color:red" onclick="x()">'
        '<a href="javascript:void(0)">x</a><style>p{}</style><script src="/a.js"></script>'
    )
    assert len(_inline_problems(html)) == 5


def test_pages_have_nothing_the_csp_would_block(
    client: FlaskClient, session: Session, app: Flask
) -> None:
    wall = make_wall(session, "csp", moderation=Moderation.POST)
    make_answer(session, wall, "Et svar")
    device = kiosks.create_device(session, wall, "Biblioteket")
    staff = make_staff(session, role="admin")
    pages = [
        "/",
        "/tilgaengelighed",
        "/w/csp",
        "/w/csp/poster",
        f"/kiosk/csp?device={device.token}",
        "/kiosk/csp?device=wrong-token",
        "/live/csp",
        "/staff/login",
        "/nowhere",
    ]
    response = client.post(
        "/w/csp",
        data={"prompt_id": wall.prompts[0].id, "text": "Hej", "client_submission_id": "csp-0001"},
    )
    pages.append(response.headers["Location"])
    for page in pages:
        response = client.get(page)
        assert response.status_code < 500, page
        assert _inline_problems(response.get_data(as_text=True)) == [], page
    login(client, staff)
    staff_pages = [r.rule for r in app.url_map.iter_rules() if _simple_staff_page(r)]
    assert len(staff_pages) >= 3
    for page in staff_pages:
        response = client.get(page)
        if response.mimetype == "text/html":
            assert _inline_problems(response.get_data(as_text=True)) == [], page


def _simple_staff_page(rule: Any) -> bool:
    return (
        rule.endpoint.startswith("staff.")
        and "GET" in rule.methods
        and not rule.arguments
        and rule.endpoint not in ("staff.logout",)
    )


# --- rate limits ---


def _body(wall: Wall, number: int) -> dict[str, Any]:
    return {
        "prompt_id": wall.prompts[0].id,
        "text": f"Svar nummer {number}",
        "client_submission_id": f"limit-{number:08d}",
    }


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Answer)) or 0


def test_an_answer_over_the_limit_without_javascript_stays_in_the_form(
    make_app: Any, session: Session
) -> None:
    wall = make_wall(session, "uden-js", moderation=Moderation.POST)
    client = limited_app(make_app).test_client()
    form = {**_body(wall, 1), "prompt_id": str(wall.prompts[0].id)}
    for number in (1, 2, 3):
        sent = client.post("/w/uden-js", data={**form, **_body(wall, number)})
        assert sent.status_code == 303
    kept = {**form, "text": "Mit svar <b>med</b> 🙂", "client_submission_id": "kept-00000004"}
    refused = client.post("/w/uden-js", data=kept)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "Der er sendt mange svar herfra lige nu. Dit svar står her stadig" in page
    assert "Mit svar &lt;b&gt;med&lt;/b&gt; 🙂</textarea>" in page
    assert 'value="kept-00000004"' in page  # sent again, it is stored once
    assert _count(session) == 3
    # "Enig" and unknown walls over the limit get the plain page.
    assert client.post("/w/findes-ikke", data=kept).status_code == 429

    client.application.extensions["stemmer.limiter"].reset()
    assert client.post("/w/uden-js", data=kept).status_code == 303
    assert client.post("/w/uden-js", data=kept).status_code == 303
    assert _count(session) == 4


def test_rate_limits_are_off_in_the_test_app(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, "many", moderation=Moderation.POST)
    for number in range(70):
        response = client.post("/api/v1/walls/many/answers", json=_body(wall, number))
        assert response.status_code == 201
    assert _count(session) == 70


def test_web_form_and_api_share_one_limit_per_client(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "limit", moderation=Moderation.POST)
    app = limited_app(make_app)
    client = app.test_client()
    assert client.post("/api/v1/walls/limit/answers", json=_body(wall, 1)).status_code == 201
    assert client.post("/api/v1/walls/limit/answers", json=_body(wall, 2)).status_code == 201
    form = {**_body(wall, 3), "prompt_id": str(wall.prompts[0].id)}
    assert client.post("/w/limit", data=form).status_code == 303
    refused = client.post("/api/v1/walls/limit/answers", json=_body(wall, 4))
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert refused.get_json()["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    page = client.post("/w/limit", data={**form, "client_submission_id": "limit-00000005"})
    assert page.status_code == 429
    assert "text/html" in page.content_type
    assert _count(session) == 3
    # Another client (address) has its own budget; reading is never limited.
    other = client.post(
        "/api/v1/walls/limit/answers",
        json=_body(wall, 6),
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert other.status_code == 201
    assert client.get("/w/limit").status_code == 200
    assert client.get("/api/v1/walls/limit/answers").status_code == 200


def test_limit_keys_never_hold_the_client_address(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "keys", moderation=Moderation.POST)
    app = limited_app(make_app)
    client = app.test_client()
    client.post(
        "/api/v1/walls/keys/answers",
        json=_body(wall, 1),
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    storage = app.extensions["stemmer.limiter"].storage
    keys = " ".join(str(key) for key in [*storage.events, *storage.storage])
    assert "client:" in keys
    assert "198.51.100.23" not in keys and "198-51-100-23" not in keys


def _kiosk_post(client: FlaskClient, wall: Wall, number: int, token: str | None) -> Any:
    headers = {"X-Kiosk-Device": token} if token else {}
    return client.post(f"/kiosk/{wall.slug}/answers", json=_body(wall, number), headers=headers)


def test_a_kiosk_answer_over_the_limit_without_javascript_stays_in_the_form(
    make_app: Any, session: Session
) -> None:
    wall = make_wall(session, "kiosk-uden-js", moderation=Moderation.POST)
    device = kiosks.create_device(session, wall, "Sundhedsplejen")
    client = limited_app(make_app, RATELIMIT_KIOSK="1 per minute").test_client()
    form = {"device": device.token, "prompt_id": str(wall.prompts[0].id), "role": "young"}
    first = {**form, "text": "Flere bænke", "client_submission_id": "kiosk-js-0001"}
    assert client.post("/kiosk/kiosk-uden-js", data=first).status_code == 303
    kept = {**form, "text": "Et sted at være 🙂", "client_submission_id": "kiosk-js-0002"}
    refused = client.post("/kiosk/kiosk-uden-js", data=kept)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Der er sendt mange svar herfra lige nu. Dit svar står her stadig" in page
    assert "Et sted at være 🙂</textarea>" in page and 'value="kiosk-js-0002"' in page
    assert _count(session) == 1
    client.application.extensions["stemmer.limiter"].reset()
    assert client.post("/kiosk/kiosk-uden-js", data=kept).status_code == 303
    assert _count(session) == 2


def test_kiosk_with_a_valid_token_has_its_own_higher_limit(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "kiosk-limit", moderation=Moderation.POST)
    device = kiosks.create_device(session, wall, "Biblioteket")
    client = limited_app(make_app).test_client()
    # The tablet's address has used up the per-client limit on the web...
    for number in range(3):
        assert client.post(f"/api/v1/walls/{wall.slug}/answers", json=_body(wall, number))
    assert client.post(f"/api/v1/walls/{wall.slug}/answers", json=_body(wall, 3)).status_code == 429
    # ...but the kiosk answers on its device limit: 5 per minute here.
    statuses = [_kiosk_post(client, wall, 10 + n, device.token).status_code for n in range(6)]
    assert statuses == [201] * 5 + [429]
    # A wrong or missing token falls under the (spent) per-client limit.
    assert _kiosk_post(client, wall, 20, "not-a-device-token").status_code == 429
    assert _kiosk_post(client, wall, 21, None).status_code == 429
    # A second tablet has its own budget.
    second = kiosks.create_device(session, wall, "Sundhedsplejen")
    assert _kiosk_post(client, wall, 30, second.token).status_code == 201
    assert _count(session) == 3 + 5 + 1


def test_revoked_kiosk_token_gets_the_client_limit(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "kiosk-revoked", moderation=Moderation.POST)
    device = kiosks.create_device(session, wall, "Biblioteket")
    kiosks.revoke_device(session, session.get(KioskDevice, device.id))
    client = limited_app(make_app).test_client()
    statuses = [_kiosk_post(client, wall, n, device.token).status_code for n in range(4)]
    assert statuses == [410, 410, 410, 429]


def test_plain_kiosk_form_is_limited_per_device(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "kiosk-form", moderation=Moderation.POST)
    device = kiosks.create_device(session, wall, "Biblioteket")
    client = limited_app(make_app).test_client()
    statuses = []
    for number in range(6):
        form = {**_body(wall, number), "device": device.token}
        statuses.append(client.post(f"/kiosk/{wall.slug}", data=form).status_code)
    assert statuses == [303] * 5 + [429]


def test_agreeing_is_limited_per_client(make_app: Any, session: Session) -> None:
    wall = make_wall(session, "enig", moderation=Moderation.POST)
    answers = [make_answer(session, wall, f"Svar {n}") for n in range(3)]
    client = limited_app(make_app).test_client()
    client.get("/w/enig")  # the wall page gives the device its key for "enig"
    statuses = [client.post(f"/w/enig/svar/{answer.id}/enig").status_code for answer in answers]
    assert statuses == [303, 303, 429]


def test_sign_in_attempts_are_limited_per_client_address(make_app: Any, session: Session) -> None:
    staff = make_staff(session, role="admin")
    client = limited_app(make_app).test_client()
    wrong = {"email": staff.email, "password": "forkert kodeord 1"}
    other_accounts = [{"email": f"ukendt{n}@example.dk", "password": "x" * 12} for n in range(3)]
    statuses = [client.post("/staff/login", data=form).status_code for form in other_accounts]
    statuses.append(client.post("/staff/login", data=wrong).status_code)
    assert statuses == [401, 401, 401, 401]
    refused = client.post("/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD})
    assert refused.status_code == 429
    assert "text/html" in refused.content_type
    assert "Vent et øjeblik" in refused.get_data(as_text=True)
    assert client.get("/staff/login").status_code == 200  # the page itself is not limited
    # The right password from another address still works: the limit is per client.
    elsewhere = client.post(
        "/staff/login",
        data={"email": staff.email, "password": STAFF_PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert elsewhere.status_code == 303


# --- CSRF on every staff form ---

#: POST endpoints that deliberately take no session CSRF token, and why.
CSRF_EXEMPT = {
    # The form checks its own token and re-renders with the text kept (never loses text).
    "participate.answer",
    "participate.closed_answer",
    # Authorised by the device token, which a cross-site page cannot know.
    "kiosk.answer",
    "kiosk.post_answer",
    "kiosk.closed_answer",
}


def _url(rule: Any) -> str:
    values = {name: 1 if "id" in name else "x" for name in rule.arguments}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_every_staff_form_needs_the_csrf_token(app: Flask, session: Session) -> None:
    # Tell CSRF refusals apart from other 400s (a form's own validation).
    app.register_error_handler(CSRFError, lambda _error: ("csrf", 418))
    staff = make_staff(session, role="admin")
    client = app.test_client()
    login(client, staff)
    app.config["WTF_CSRF_ENABLED"] = True
    posts = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api/")
    ]
    staff_posts = [rule for rule in posts if rule.endpoint.startswith("staff.")]
    assert len(staff_posts) >= 10
    for rule in posts:
        if rule.endpoint in CSRF_EXEMPT:
            continue
        response = client.post(_url(rule), data={"name": "x"})
        assert response.status_code == 418, (rule.endpoint, response.status_code)
    # The session is still logged in: the refusals were CSRF, not a lost login.
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.get("/staff/").status_code == 200


def test_answer_form_without_its_token_stores_nothing(app: Flask, session: Session) -> None:
    wall = make_wall(session, "csrf-form", moderation=Moderation.POST)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post(
        "/w/csrf-form",
        data={"prompt_id": wall.prompts[0].id, "text": "Hej", "client_submission_id": "csrf-001"},
    )
    assert response.status_code == 400
    assert "Hej" in response.get_data(as_text=True)  # the text is kept
    assert _count(session) == 0


def test_cookies_are_http_only_same_site_and_secure_when_configured(
    make_app: Any, session: Session
) -> None:
    make_wall(session, "cookies")
    plain = make_app().test_client()
    plain.get("/w/cookies?lang=en")  # stores the language in the session
    cookie = plain.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    secure = make_app(SESSION_COOKIE_SECURE=True).test_client()
    secure.get("/w/cookies?lang=en", base_url="https://stemmer.example.dk")
    cookie = secure.get_cookie("session", domain="stemmer.example.dk")
    assert cookie is not None and cookie.secure
