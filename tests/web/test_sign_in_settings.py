"""The browser sign-in's settings: the config additions, the provider's endpoints from
its discovery document, and ``GET /ui/signin/config`` in process."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from sightwire.config.api import ApiConfig
from sightwire.config.security import OidcConfig, secure_url
from sightwire.web import routes, sign_in
from sightwire.web.provider import Discovery, DiscoveryError, ProviderEndpoints, origin
from tests.web.oidc_provider import CodeFlowProvider, serve_code_flow

ISSUER = "https://login.example.com/realms/plant"


def oidc(**settings: Any) -> OidcConfig:
    return OidcConfig(issuer=ISSUER, audience="sightwire", **settings)


def test_the_ui_client_is_optional_and_asks_for_openid_profile_by_default() -> None:
    config = oidc()
    assert (config.client_id, config.scopes, config.authorize_params) == (
        None,
        ["openid", "profile"],
        {},
    )
    full = oidc(client_id="sightwire-ui", scopes=["openid", "api://sw/read"])
    assert full.client_id == "sightwire-ui" and full.scopes[1] == "api://sw/read"
    assert oidc(authorize_params={"audience": "sightwire"}).authorize_params == {
        "audience": "sightwire"
    }


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"scopes": ["openid profile"]}, "single scope tokens"),
        ({"scopes": []}, "at least 1"),
        ({"scopes": ['say"hi']}, "single scope tokens"),
        ({"client_id": "my client"}, "printable"),
        ({"client_id": ""}, "printable"),
        ({"authorize_params": {"state": "fixed"}}, "'state'"),
        ({"authorize_params": {"code_challenge_method": "plain"}}, "code_challenge_method"),
        ({"client_secret": "s3cret"}, "Extra inputs"),  # a browser cannot keep one
    ],
)
def test_unusable_sign_in_settings_are_refused_at_load(
    settings: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        oidc(**settings)


def test_only_https_or_loopback_urls_and_plain_origins_pass() -> None:
    assert secure_url("https://a.example/x") and secure_url("http://localhost:9/x")
    assert not secure_url("http://a.example/x") and not secure_url("ftp://localhost/x")
    assert origin("https://a.example:8443/t?x=1") == "https://a.example:8443"
    assert origin("http://[::1]:9/t") == "http://[::1]:9"
    for bad in ("http://a.example/t", "https://user:pw@a.example/t", "https://a b/t"):
        with pytest.raises(DiscoveryError):
            origin(bad)


def document(**changes: Any) -> dict[str, Any]:
    base = {
        "issuer": ISSUER,
        "authorization_endpoint": "https://login.example.com/auth",
        "token_endpoint": "https://tokens.example.com/token",
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def test_endpoints_come_from_the_issuers_own_discovery_document() -> None:
    found = ProviderEndpoints.from_document(document(), ISSUER)
    assert found.token_origin == "https://tokens.example.com"
    assert found.response_mode == "fragment"  # the default modes include it
    query_only = document(response_modes_supported=["query"])
    assert ProviderEndpoints.from_document(query_only, ISSUER).response_mode == "query"
    for changes, words in [
        ({"issuer": "https://evil.example"}, "names issuer"),
        ({"token_endpoint": None}, "no token_endpoint"),
        ({"authorization_endpoint": "http://login.example.com/auth"}, "not an https"),
    ]:
        with pytest.raises(DiscoveryError, match=words):
            ProviderEndpoints.from_document(document(**changes), ISSUER)


class Fetches:
    """A provider answering from a list: endpoints, or a DiscoveryError."""

    def __init__(self, *answers: ProviderEndpoints | DiscoveryError) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, config: OidcConfig) -> ProviderEndpoints:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, DiscoveryError):
            raise answer
        return answer


def test_discovery_is_cached_kept_through_failures_and_not_hammered() -> None:
    now = [0.0]
    one = ProviderEndpoints.from_document(document(), ISSUER)
    two = ProviderEndpoints.from_document(document(token_endpoint="https://x.example/t"), ISSUER)
    fetch = Fetches(DiscoveryError("down"), one, DiscoveryError("down again"), two)
    config = oidc(client_id="ui", jwks_refresh_s=300, jwks_min_interval_s=10)
    discovery = Discovery(config, fetch=fetch, clock=lambda: now[0])
    assert discovery.endpoints() is None and fetch.calls == 1
    now[0] = 5.0
    assert discovery.endpoints() is None and fetch.calls == 1  # resting after a failure
    now[0] = 11.0
    assert discovery.endpoints() == one and fetch.calls == 2
    now[0] = 200.0
    assert discovery.endpoints() == one and fetch.calls == 2  # cached
    now[0] = 320.0
    assert discovery.endpoints() == one and fetch.calls == 3  # refresh failed: kept
    now[0] = 331.0
    assert discovery.endpoints() == two and fetch.calls == 4


def client_for(api: ApiConfig) -> TestClient:
    app = FastAPI()
    app.state.context = SimpleNamespace(config=SimpleNamespace(api=api))
    app.include_router(routes.router)
    app.include_router(sign_in.router)
    return TestClient(app)


@pytest.fixture(scope="module")
def provider() -> Iterator[CodeFlowProvider]:
    with serve_code_flow() as served:
        yield served


def test_settings_say_which_sign_in_methods_the_server_takes(provider: CodeFlowProvider) -> None:
    keys_only = client_for(ApiConfig()).get("/ui/signin/config").json()
    assert keys_only == {
        "api_keys": True,
        "bearer_tokens": False,
        "oidc": None,
        "oidc_problem": None,
    }
    plain = OidcConfig(issuer=provider.issuer, audience="sightwire")
    pasted = client_for(ApiConfig(keys=False, oidc=plain))
    assert pasted.get("/ui/signin/config").json()["bearer_tokens"] is True
    assert pasted.get("/ui/signin/config").json()["oidc"] is None  # no client_id: no button
    policy = pasted.get("/ui/callback").headers["content-security-policy"]
    assert "connect-src 'self';" in policy

    ui = plain.model_copy(update={"client_id": "ui", "authorize_params": {"audience": "sw"}})
    settings = client_for(ApiConfig(oidc=ui)).get("/ui/signin/config").json()
    assert settings["oidc"]["token_endpoint"] == f"{provider.base}/token"
    assert settings["oidc"]["authorize_params"] == {"audience": "sw"}


def test_an_unreachable_provider_leaves_api_keys_and_says_so() -> None:
    down = OidcConfig(issuer="http://127.0.0.1:1/realm", audience="sightwire", client_id="ui")
    client = client_for(ApiConfig(oidc=down))
    settings = client.get("/ui/signin/config").json()
    assert settings["api_keys"] is True and settings["oidc"] is None
    assert settings["oidc_problem"] == "The identity provider cannot be reached; try again shortly."
    assert "connect-src 'self';" in client.get("/ui/callback").headers["content-security-policy"]
