"""Single sign-on for staff with their organisation's OpenID provider (issue 25).

Off while ``OIDC_DISCOVERY_URL`` is empty. Authlib's Flask client runs the authorization-code
flow with PKCE (S256): it reads the provider's discovery document, keeps the state, nonce and
code verifier in the session, exchanges the code at the token endpoint and checks the ID
token: its signature against the provider's published keys, the nonce and its times (with
``OIDC_CLOCK_LEEWAY``). Its issuer and audience are checked here through ``claims_options``
(Authlib checks the audience only when told to). :func:`surveys.sso.sign_on` then decides who
the person is in Stemmer. Logging out also ends the session at the provider when it has an
``end_session_endpoint``.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth, OAuthError
from flask import Flask, Response, abort, current_app, flash, redirect, session, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from joserfc.errors import JoseError

from surveys import sso
from surveys.sso import SignOnPolicy, SignOnRefused, parse_role_map

from ..extensions import db
from ..ratelimits import login_limit
from ..security import content_security_policy
from . import bp
from .auth import SSO_ID_TOKEN_KEY, log_in

EXTENSION = "stemmer.oidc"
#: Seconds a request to the provider may take.
PROVIDER_TIMEOUT = 10


def init_oidc(app: Flask) -> None:
    """Register the provider with Authlib's Flask client when single sign-on is set up."""
    config = app.config
    if not config["OIDC_DISCOVERY_URL"]:
        return
    oauth = OAuth(app)
    app.extensions[EXTENSION] = oauth.register(
        "oidc",
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=config["OIDC_DISCOVERY_URL"],
        client_kwargs={
            "scope": config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "timeout": PROVIDER_TIMEOUT,
        },
    )


@bp.record_once
def _on_register(state: BlueprintSetupState) -> None:
    init_oidc(cast(Flask, state.app))


def provider() -> FlaskOAuth2App | None:
    """The registered provider (None: single sign-on is off)."""
    return current_app.extensions.get(EXTENSION)


def display_name() -> str | None:
    """The provider's name for the login page's button (None: single sign-on is off)."""
    return current_app.config["OIDC_DISPLAY_NAME"] if provider() is not None else None


@bp.context_processor
def sso_button() -> dict[str, Any]:
    """``sso_name`` for the login page's "Log ind med ..." button."""
    return {"sso_name": display_name()}


def _policy() -> SignOnPolicy:
    config = current_app.config
    return SignOnPolicy(
        organisation_slug=config["OIDC_ORGANISATION"],
        match_email=config["OIDC_MATCH_EMAIL"],
        roles_claim=config["OIDC_ROLES_CLAIM"],
        role_map=parse_role_map(config["OIDC_ROLE_MAP"]),
    )


def _claims_options(client: FlaskOAuth2App) -> dict[str, Any]:
    """The ID token must come from the provider's issuer and be meant for Stemmer."""
    issuer = client.load_server_metadata()["issuer"]
    return {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client.client_id},
    }


def _callback_url() -> str:
    return current_app.config["BASE_URL"] + url_for(".sso_callback")


def _failed() -> ResponseReturnValue:
    flash(
        _(
            "Logging in with %(name)s did not work. Please try again.",
            name=current_app.config["OIDC_DISPLAY_NAME"],
        ),
        "error",
    )
    return redirect(url_for(".login"), code=303)


@bp.get("/login/sso")
@login_limit
def sso_login() -> ResponseReturnValue:
    """Send the browser to the provider to sign on."""
    client = provider()
    if client is None:
        abort(404)
    try:
        return client.authorize_redirect(_callback_url())
    except requests.RequestException as error:
        current_app.logger.warning("Single sign-on: the provider cannot be reached: %s", error)
        return _failed()


@bp.get("/login/sso/callback")
@login_limit
def sso_callback() -> ResponseReturnValue:
    """The provider sends the browser back: check its answer, then log the person in."""
    client = provider()
    if client is None:
        abort(404)
    try:
        token = client.authorize_access_token(
            claims_options=_claims_options(client),
            leeway=current_app.config["OIDC_CLOCK_LEEWAY"],
        )
    except (OAuthError, JoseError, requests.RequestException) as error:
        current_app.logger.warning("Single sign-on refused: %s: %s", type(error).__name__, error)
        return _failed()
    claims = token.get("userinfo")
    if not claims:  # no ID token in the answer
        return _failed()
    try:
        user = sso.sign_on(db.session, claims, _policy())
    except SignOnRefused as refused:
        flash(_(refused.message, **refused.params), "error")
        return redirect(url_for(".login"), code=303)
    log_in(user)
    session[SSO_ID_TOKEN_KEY] = token["id_token"]
    return redirect(url_for(".dashboard"), code=303)


@bp.after_request
def allow_logout_at_provider(response: Response) -> Response:
    """A signed-on browser's logout form leads on to the provider's logout, and browsers
    apply the Content-Security-Policy's ``form-action`` to that redirect too: on their pages
    it names the provider's address besides Stemmer's (a CONTENT_SECURITY_POLICY set by hand
    is left as it is)."""
    client = provider()
    config = current_app.config
    if client is None or config["CONTENT_SECURITY_POLICY"] or not session.get(SSO_ID_TOKEN_KEY):
        return response
    try:
        endpoint = client.load_server_metadata().get("end_session_endpoint")
    except requests.RequestException:
        return response
    if endpoint:
        parts = urlsplit(endpoint)
        response.headers["Content-Security-Policy"] = content_security_policy(
            config["CSP_FRAME_ANCESTORS"], form_action=f"'self' {parts.scheme}://{parts.netloc}"
        )
    return response


def end_session_redirect() -> ResponseReturnValue | None:
    """After logging out of Stemmer: to the provider's logout, if the person signed on there
    and it offers one (then back to the login page); None otherwise."""
    id_token = session.pop(SSO_ID_TOKEN_KEY, None)
    client = provider()
    if client is None or not id_token:
        return None
    try:
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        logout = client.create_logout_url(
            post_logout_redirect_uri=current_app.config["BASE_URL"] + url_for(".login"),
            id_token_hint=id_token,
        )
        return redirect(logout["url"], code=303)
    except requests.RequestException:
        return None
