"""Signing in to the UI with an identity provider: the authorization code flow with
PKCE, in Debian's chromium, against a real ``sightwire serve`` and a real provider
on localhost (tests/web/oidc_provider.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from sightwire.config.loader import load_config
from tests.web.conftest import screenshot
from tests.web.oidc_provider import CodeFlowProvider, serve_code_flow
from tests.web.server import free_port, running
from tests.web.site import Site, build_site

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route, expect
else:

    def expect(target: Any) -> Any:
        """Playwright's expect, imported late: without playwright the tests skip."""
        from playwright.sync_api import expect as playwright_expect

        return playwright_expect(target)


pytestmark = pytest.mark.timeout(240)
CLIENT_ID = "sightwire-ui"
CREDENTIAL = "sightwire.credential"


@pytest.fixture(scope="module")
def provider() -> Iterator[CodeFlowProvider]:
    with serve_code_flow() as served:
        yield served


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, provider: CodeFlowProvider) -> Iterator[Site]:
    """The UI tests' site, also accepting the provider's tokens, with the UI's client."""
    root = tmp_path_factory.mktemp("oidc-site")
    built = build_site(root, free_port())
    oidc = (
        f"  oidc: {{issuer: '{provider.issuer}', audience: sightwire, "
        f"client_id: {CLIENT_ID}, leeway_s: 0}}\n"
    )
    text = built.config_path.read_text(encoding="utf-8")
    built.config_path.write_text(text.replace("\napi:\n", "\napi:\n" + oidc, 1), "utf-8")
    built.config = load_config(built.config_path)
    assert built.config.api.oidc is not None and built.config.api.oidc.client_id == CLIENT_ID
    provider.register(CLIENT_ID, f"{built.url}/ui/callback")
    with running(built.config_path, built.url, root / "serve.log"):
        yield built


def stored(page: Page, key: str = CREDENTIAL) -> Any:
    return page.evaluate("(key) => sessionStorage.getItem(key)", key)


def provider_button(page: Page) -> Any:
    return page.get_by_role("button", name="Sign in with 127.0.0.1", exact=True)


def test_settings_are_public_and_only_the_callback_may_reach_the_provider(
    site: Site, provider: CodeFlowProvider
) -> None:
    settings = httpx.get(f"{site.url}/ui/signin/config").json()  # no credential sent
    assert settings["api_keys"] is True and settings["bearer_tokens"] is True
    assert settings["oidc"] == {
        "issuer": provider.issuer,
        "label": "127.0.0.1",
        "client_id": CLIENT_ID,
        "scopes": ["openid", "profile"],
        "authorize_params": {},
        "authorization_endpoint": f"{provider.base}/authorize",
        "token_endpoint": f"{provider.base}/token",
        "response_mode": "fragment",
    }
    callback = httpx.get(f"{site.url}/ui/callback").headers["content-security-policy"]
    assert f"connect-src 'self' {provider.base};" in callback
    assert "script-src 'self';" in callback and "unsafe-inline" not in callback
    events = httpx.get(f"{site.url}/ui/events").headers["content-security-policy"]
    assert "connect-src 'self';" in events  # the other pages talk to us alone


def test_sign_in_with_the_provider_then_sign_out(
    page: Page, site: Site, provider: CodeFlowProvider
) -> None:
    page.goto("/ui/events?rule=parcel.seen")
    page.wait_for_url("**/ui/signin?next=*")
    button = provider_button(page)
    expect(button).to_be_visible()
    screenshot(page, "signin-oidc")
    before = provider.token_requests
    button.click()
    page.wait_for_url(re.compile(r"/ui/events\?rule=parcel\.seen$"))  # the page first asked for
    expect(page.locator("#who")).to_have_text("oidc:ines · operator")
    # The API answers the page with the provider's token: the seeded events show.
    expect(page.locator("#events tbody tr").first).to_contain_text("parcel.seen")

    asked = provider.authorizations[-1]
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == f"{site.url}/ui/callback"
    assert asked["scope"] == "openid profile" and asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43 and len(asked["state"]) >= 22 and asked["nonce"]
    assert provider.token_requests == before + 1
    token = stored(page)
    assert token.count(".") == 2 and token not in page.content()
    assert stored(page, "sightwire.oidc") is None  # the verifier is gone once used
    assert asked["response_mode"] == "fragment"  # so no server log ever holds the code
    assert "code=" not in (site.root / "serve.log").read_text(errors="replace")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/signin")
    assert stored(page) is None
    page.goto("/ui/events")
    page.wait_for_url("**/ui/signin?next=*")


def test_a_tampered_state_is_refused_before_the_code_is_redeemed(
    page: Page, site: Site, provider: CodeFlowProvider
) -> None:
    def tamper(route: Route) -> None:
        # The provider's real answer, its state swapped: an answer to someone
        # else's sign-in, pushed into this tab.
        answer = route.fetch(max_redirects=0)
        location = answer.headers["location"]
        base, _, fragment = location.partition("#")
        params = dict(parse_qsl(fragment)) | {"state": "forged-state"}
        assert params["code"]
        route.fulfill(status=302, headers={"Location": f"{base}#{urlencode(params)}"})

    page.route(f"{provider.base}/authorize?*", tamper)
    page.goto("/ui/signin")
    before = provider.token_requests
    provider_button(page).click()
    page.wait_for_url("**/ui/callback")
    expect(page.get_by_role("alert")).to_contain_text("state differs")
    assert provider.token_requests == before  # the code was never sent to the provider
    assert stored(page) is None
    expect(page.get_by_role("link", name="Back to sign in")).to_be_focused()


def test_a_wrong_code_verifier_is_refused_by_the_provider(
    page: Page, site: Site, provider: CodeFlowProvider
) -> None:
    def wrong_verifier(route: Route) -> None:
        form = dict(parse_qsl(route.request.post_data or ""))
        assert form["code_verifier"]  # the page sent one; send another instead
        form["code_verifier"] = "x" * 43
        route.continue_(post_data=urlencode(form))

    page.route(f"{provider.base}/token", wrong_verifier)
    page.goto("/ui/signin")
    refused = len(provider.refusals)
    provider_button(page).click()
    page.wait_for_url("**/ui/callback")
    expect(page.get_by_role("alert")).to_contain_text(
        "The identity provider refused the sign-in: invalid_grant"
    )
    assert provider.refusals[refused:] == [
        "invalid_grant: code_verifier does not match the code_challenge"
    ]
    assert stored(page) is None


def test_an_id_token_of_another_sign_in_is_refused(
    page: Page, site: Site, provider: CodeFlowProvider
) -> None:
    def replayed(route: Route) -> None:
        # A genuine, signed ID token, but minted for another sign-in (its nonce).
        answer = route.fetch()
        tokens = answer.json()
        assert tokens["id_token"] and tokens["access_token"]
        tokens["id_token"] = provider.token(aud=CLIENT_ID, nonce="another", roles=None)
        route.fulfill(response=answer, json=tokens)

    page.route(f"{provider.base}/token", replayed)
    page.goto("/ui/signin")
    provider_button(page).click()
    page.wait_for_url("**/ui/callback")
    expect(page.get_by_role("alert")).to_contain_text("nonce does not match")
    assert stored(page) is None


def test_an_expired_token_sends_the_user_back_to_sign_in_with_a_message(
    page: Page, site: Site, provider: CodeFlowProvider
) -> None:
    page.goto("/ui/signin")
    past = int(time.time()) - 120
    old = provider.token(iat=past - 300, exp=past)
    page.evaluate("([key, token]) => sessionStorage.setItem(key, token)", [CREDENTIAL, old])
    page.goto("/ui/events")
    page.wait_for_url("**/ui/signin?next=*&reason=expired")
    expect(page.locator("#signin-notice")).to_have_text("Your sign-in has expired. Sign in again.")
    assert stored(page) is None
    assert urlsplit(page.url).path == "/ui/signin"
