"""Single sign-on for staff against a real OpenID provider on loopback (issue 25).

The provider is panva's certified oidc-provider (npm), started with node by the ``oidc``
fixture (tests/oidc/provider.mjs); Stemmer's side is the app as it runs, with Authlib's
client talking HTTP to the provider. The test plays the browser: it takes the app's redirect
to the provider, lets the provider sign on the account the test chose, and brings the
provider's answer back to the app's callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from surveys.models import AuditEntry, Organisation, StaffRole, StaffUser
from surveys.sso import SignOnPolicy, mapped_role, parse_role_map
from tests.factories import STAFF_PASSWORD, make_organisation, make_staff
from tests.oidc import CALLBACK, Provider, running_provider

from .staff_helpers import login

BASE_URL = "http://localhost"


@pytest.fixture(scope="module")
def oidc() -> Iterator[Provider]:
    """panva's oidc-provider on a free loopback port for this module's tests."""
    with running_provider(BASE_URL) as provider:
        yield provider


@pytest.fixture
def provider(oidc: Provider) -> Provider:
    """The provider with its default settings again."""
    oidc.settings(idTokenTtl=3600, clockOffset=0)
    return oidc


@pytest.fixture
def organisation(session: Session) -> Organisation:
    return make_organisation(session, slug="aarhus")


@pytest.fixture
def sso_app(
    make_app: Callable[..., Flask], provider: Provider, organisation: Organisation
) -> Callable[..., Flask]:
    """An app with single sign-on at the provider; keyword arguments change its settings."""

    def build(**config: Any) -> Flask:
        return make_app(**{**provider.app_settings(organisation.slug), **config})

    return build


def sign_on(
    client: FlaskClient,
    provider: Provider,
    tamper: Callable[[dict[str, str]], None] = lambda query: None,
) -> TestResponse:
    """The whole sign-on: the app's login link, the provider, the app's callback.

    ``tamper`` may change the authorization request's query on its way to the provider.
    """
    start = client.get("/staff/login/sso")
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    parts = urlsplit(start.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]
    tamper(query)
    back = urlsplit(provider.authorize(urlunsplit(parts._replace(query=urlencode(query)))))
    assert f"{back.scheme}://{back.netloc}{back.path}" == BASE_URL + CALLBACK
    return client.get(f"{back.path}?{back.query}")


def logged_in(client: FlaskClient) -> bool:
    return client.get("/staff/").status_code == 200


def refusal(client: FlaskClient, response: TestResponse) -> str:
    """The login page the refused person is sent to, as text."""
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/login"
    return client.get("/staff/login").get_data(as_text=True)


def refused_for(caplog: pytest.LogCaptureFixture, reason: str) -> bool:
    """Whether the app logged that it refused a sign-on for this reason."""
    return any(
        record.getMessage().startswith("Single sign-on refused: ") and reason in record.getMessage()
        for record in caplog.records
    )


def actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


MAPPED = {"OIDC_ROLES_CLAIM": "roles", "OIDC_ROLE_MAP": "Stemmer.Admin=admin,Stemmer.Mod=moderator"}


def test_sign_on_makes_an_account_with_the_mapped_role_and_logout_ends_both_sessions(
    sso_app: Callable[..., Flask], provider: Provider, session: Session
) -> None:
    client = sso_app(**MAPPED).test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    assert "Log ind med Aarhus Kommune" in page and 'href="/staff/login/sso"' in page

    provider.next_login(
        "sub-mia", email="Mia@Aarhus.dk", email_verified=True, name="Mia", roles=["Stemmer.Mod"]
    )
    response = sign_on(client, provider)
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    assert logged_in(client)
    user = session.scalars(select(StaffUser).where(StaffUser.oidc_subject == "sub-mia")).one()
    assert (user.email, user.name, user.role) == ("mia@aarhus.dk", "Mia", StaffRole.MODERATOR)
    assert user.oidc_issuer == provider.issuer
    assert actions(session)[-2:] == ["user.create_sso", "auth.login_sso"]

    # The provider's roles decide at every sign-on; the account is found by its subject.
    provider.next_login("sub-mia", email="mia@aarhus.dk", roles=["Stemmer.Mod", "Stemmer.Admin"])
    client = sso_app(**MAPPED).test_client()
    assert sign_on(client, provider).status_code == 303 and logged_in(client)
    session.refresh(user)
    assert user.role is StaffRole.ADMIN
    assert session.scalar(select(StaffUser.id).where(StaffUser.email == "mia@aarhus.dk"))

    # Logout ends Stemmer's session, then the provider's (it has an end_session_endpoint).
    response = client.post("/staff/logout")
    assert response.status_code == 303
    end = urlsplit(response.headers["Location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{provider.issuer}/session/end"
    query = parse_qs(end.query)
    assert query["post_logout_redirect_uri"] == [BASE_URL + "/staff/login"]
    assert query["id_token_hint"][0].count(".") == 2
    assert requests.get(response.headers["Location"], timeout=10).status_code == 200
    assert not logged_in(client)


def test_an_admin_signed_on_at_the_provider_is_not_asked_for_stemmers_second_factor(
    sso_app: Callable[..., Flask], provider: Provider, session: Session, organisation: Organisation
) -> None:
    """The provider checks the second factor; the same account's password login does not skip
    Stemmer's two-factor step (TOTP, required of admins)."""
    admin = make_staff(
        session, organisation, "admin", oidc_issuer=provider.issuer, oidc_subject="sub-admin"
    )
    app = sso_app(TOTP_REQUIRED_ROLES=["admin"])
    provider.next_login("sub-admin", email=admin.email)
    client = app.test_client()
    assert sign_on(client, provider).status_code == 303 and logged_in(client)

    client = app.test_client()
    response = client.post("/staff/login", data={"email": admin.email, "password": STAFF_PASSWORD})
    assert response.status_code == 303 and "/login" not in response.headers["Location"]
    assert client.get("/staff/").status_code == 302  # on to set up the authenticator app first


def test_a_local_account_still_logs_in_with_its_password(
    sso_app: Callable[..., Flask], session: Session, organisation: Organisation
) -> None:
    client = sso_app().test_client()
    login(client, make_staff(session, organisation, "viewer"))
    assert logged_in(client)
    response = client.post("/staff/logout")
    assert response.headers["Location"] == "/staff/login"  # no provider to log out of


def test_the_first_sign_on_links_the_account_an_admin_made_by_verified_email(
    sso_app: Callable[..., Flask], provider: Provider, session: Session, organisation: Organisation
) -> None:
    user = make_staff(session, organisation, "analyst", email="ole@aarhus.dk")
    app = sso_app(OIDC_MATCH_EMAIL=True)

    provider.next_login("sub-ole", email="ole@aarhus.dk", email_verified=False)
    client = app.test_client()
    assert "Bed en administrator" in refusal(client, sign_on(client, provider))
    assert not logged_in(client)

    provider.next_login("sub-ole", email="OLE@aarhus.dk", email_verified=True)
    assert sign_on(client, provider).status_code == 303 and logged_in(client)
    session.refresh(user)
    assert (user.oidc_issuer, user.oidc_subject, user.role) == (
        provider.issuer,
        "sub-ole",
        StaffRole.ANALYST,
    )
    assert "auth.sso_linked" in actions(session)

    # Later sign-ons find the account by its subject, whatever the e-mail says now.
    provider.next_login("sub-ole", email="ole.hansen@aarhus.dk", email_verified=True)
    client = app.test_client()
    assert sign_on(client, provider).status_code == 303 and logged_in(client)

    # The admins' user list says whose account is linked.
    admin = make_staff(session, organisation, "admin")
    client = app.test_client()
    login(client, admin)
    rows = client.get("/staff/users").get_data(as_text=True).split("<tr>")
    assert "Koblet" in next(row for row in rows if ">ole@aarhus.dk</a>" in row)
    assert "Ikke endnu" in next(row for row in rows if f">{admin.email}</a>" in row)


def test_an_unknown_person_is_refused_in_danish_and_recorded_for_the_admins(
    sso_app: Callable[..., Flask], provider: Provider, session: Session
) -> None:
    client = sso_app(OIDC_MATCH_EMAIL=True).test_client()
    provider.next_login("sub-x", email="ny@aarhus.dk", email_verified=True, name="Ny Kollega")
    page = refusal(client, sign_on(client, provider))
    assert "Bed en administrator i din organisation om adgang" in page
    assert not logged_in(client)
    assert session.scalar(select(StaffUser).where(StaffUser.email == "ny@aarhus.dk")) is None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.sso_unknown")).one()
    assert entry.after == {"email": "ny@aarhus.dk", "name": "Ny Kollega"}


def test_without_a_mapped_role_and_when_deactivated_the_person_is_refused(
    sso_app: Callable[..., Flask], provider: Provider, session: Session, organisation: Organisation
) -> None:
    app = sso_app(**MAPPED)
    provider.next_login("sub-no-role", email="a@aarhus.dk", roles=["Something.Else"])
    client = app.test_client()
    assert "Bed en administrator" in refusal(client, sign_on(client, provider))
    assert not logged_in(client)

    user = make_staff(
        session, organisation, "admin", oidc_issuer=provider.issuer, oidc_subject="sub-gone"
    )
    user.is_active = False
    session.commit()
    provider.next_login("sub-gone", email=user.email, roles=["Stemmer.Admin"])
    client = app.test_client()
    assert "deaktiveret" in refusal(client, sign_on(client, provider))
    assert not logged_in(client)
    assert actions(session)[-1] == "auth.sso_refused_inactive"


def test_an_expired_id_token_is_refused(
    sso_app: Callable[..., Flask],
    provider: Provider,
    session: Session,
    organisation: Organisation,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_staff(session, organisation, "viewer", oidc_issuer=provider.issuer, oidc_subject="sub-t")
    provider.next_login("sub-t", email="t@aarhus.dk")
    # The provider's clock is five minutes behind: its one-minute tokens ran out 4 minutes ago.
    provider.settings(idTokenTtl=60, clockOffset=-300)
    client = sso_app(OIDC_CLOCK_LEEWAY=60).test_client()
    page = refusal(client, sign_on(client, provider))
    assert "Det lykkedes ikke at logge ind med Aarhus Kommune" in page
    assert not logged_in(client)
    assert refused_for(caplog, "ExpiredTokenError")

    provider.settings(clockOffset=-90)  # 30 seconds ago: within the leeway for clocks
    provider.next_login("sub-t", email="t@aarhus.dk")
    client = sso_app(OIDC_CLOCK_LEEWAY=60).test_client()
    assert sign_on(client, provider).status_code == 303 and logged_in(client)


def test_a_state_or_nonce_that_does_not_match_is_refused(
    sso_app: Callable[..., Flask],
    provider: Provider,
    session: Session,
    organisation: Organisation,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_staff(session, organisation, "viewer", oidc_issuer=provider.issuer, oidc_subject="sub-s")
    app = sso_app()

    def state(query: dict[str, str]) -> None:
        query["state"] = "another-state-than-the-apps"

    def nonce(query: dict[str, str]) -> None:
        query["nonce"] = "another-nonce-than-the-apps"

    for tamper, reason in ((state, "MismatchingStateError"), (nonce, "Invalid claim: 'nonce'")):
        caplog.clear()
        provider.next_login("sub-s", email="s@aarhus.dk")
        client = app.test_client()
        assert "lykkedes ikke" in refusal(client, sign_on(client, provider, tamper))
        assert not logged_in(client)
        assert refused_for(caplog, reason), caplog.text

    # A callback without a sign-on started here (a forged link) is refused too.
    client = app.test_client()
    assert "lykkedes ikke" in refusal(client, client.get(f"{CALLBACK}?code=abc&state=def"))


def test_a_code_or_id_token_issued_to_another_client_is_refused(
    sso_app: Callable[..., Flask],
    provider: Provider,
    session: Session,
    organisation: Organisation,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_staff(session, organisation, "viewer", oidc_issuer=provider.issuer, oidc_subject="sub-a")
    app = sso_app()

    # The whole flow with the other client's id: the provider gives a code meant for it,
    # which Stemmer cannot use.
    def other_client(query: dict[str, str]) -> None:
        query["client_id"] = "other-service"

    provider.next_login("sub-a", email="a@aarhus.dk")
    client = app.test_client()
    assert "lykkedes ikke" in refusal(client, sign_on(client, provider, other_client))
    assert not logged_in(client)
    assert refused_for(caplog, "invalid_grant"), caplog.text

    # An ID token the provider signed for the other client fails Stemmer's check of the
    # audience (the check the callback makes), while one for Stemmer passes.
    from authlib.oauth2.rfc6749.errors import OAuth2Error
    from joserfc.errors import JoseError

    from app.staff.oidc_views import _claims_options
    from app.staff.oidc_views import provider as stemmer_client

    with app.test_request_context():
        stemmer = stemmer_client()
        assert stemmer is not None
        for client_id, accepted in (("other-service", False), ("stemmer", True)):
            provider.next_login("sub-a", email="a@aarhus.dk")
            token = provider.token_for(client_id, nonce="n" * 20)
            try:
                claims = stemmer.parse_id_token(
                    token, nonce="n" * 20, claims_options=_claims_options(stemmer), leeway=60
                )
            except (JoseError, OAuth2Error) as error:
                assert not accepted, error
                assert str(error) == "invalid_claim: Invalid claim: 'aud'"
            else:
                assert accepted and claims["aud"] == "stemmer"


def test_single_sign_on_is_off_without_a_discovery_url(client: FlaskClient) -> None:
    assert "Log ind med" not in client.get("/staff/login").get_data(as_text=True)
    assert client.get("/staff/login/sso").status_code == 404
    assert client.get(CALLBACK).status_code == 404


def test_half_set_up_single_sign_on_stops_the_app(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ValueError, match="OIDC_CLIENT_SECRET"):
        make_app(
            OIDC_DISCOVERY_URL="https://idp.example/.well-known/openid-configuration",
            OIDC_CLIENT_ID="stemmer",
            OIDC_ORGANISATION="aarhus",
        )


def test_role_map_and_mapped_role() -> None:
    mapping = parse_role_map(" Stemmer.Admin=admin , a=b=viewer,")
    assert mapping == {"Stemmer.Admin": StaffRole.ADMIN, "a=b": StaffRole.VIEWER}
    with pytest.raises(ValueError):
        parse_role_map("Stemmer.Boss=boss")
    policy = SignOnPolicy("aarhus", roles_claim="groups", role_map=mapping)
    assert mapped_role({"groups": ["a=b", "Stemmer.Admin"]}, policy) is StaffRole.ADMIN
    assert mapped_role({"groups": "a=b"}, policy) is StaffRole.VIEWER
    assert mapped_role({"groups": ["x"]}, policy) is None
    assert mapped_role({"groups": 7}, policy) is None
