"""OIDC bearer tokens against a real JWKS served on localhost."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from sightwire.config.security import OidcConfig
from sightwire.security.oidc import OidcVerifier
from sightwire.security.principal import AuthError, Role
from tests.security.provider import AUDIENCE, Provider, serve_provider


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider() -> Iterator[Provider]:
    with serve_provider() as served:
        yield served


def _verifier(provider: Provider, clock: Clock | None = None, **settings: Any) -> OidcVerifier:
    config = OidcConfig(issuer=provider.issuer, audience=AUDIENCE, **settings)
    return OidcVerifier(config, clock=clock or Clock())


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_token_becomes_a_principal(provider: Provider) -> None:
    verifier = _verifier(provider, cameras_claim="cameras")
    who = verifier.verify(provider.token(roles=["viewer", "admin"], cameras=["belt-1"]))
    assert (who.subject, who.role, who.method) == ("oidc:ana", Role.ADMIN, "oidc")
    assert who.cameras == frozenset({"belt-1"})
    assert verifier.verify(provider.token(cameras="*")).cameras is None
    assert verifier.verify(provider.token()).cameras == frozenset()  # claim absent: none
    assert provider.discovery_hits == 1 and provider.jwks_hits == 1  # keys fetched once


def test_roles_from_a_string_a_nested_claim_or_the_default(provider: Provider) -> None:
    plain = _verifier(provider)
    assert plain.verify(provider.token(roles="viewer operator")).role is Role.OPERATOR
    with pytest.raises(AuthError, match="no Sightwire role"):
        plain.verify(provider.token(roles=["superuser"]))
    nested = _verifier(provider, roles_claim="realm_access.roles", default_role="viewer")
    token = provider.token(roles=None, realm_access={"roles": ["admin"]})
    assert nested.verify(token).role is Role.ADMIN
    assert nested.verify(provider.token(roles=None)).role is Role.VIEWER


@pytest.mark.parametrize(
    ("claims", "reason"),
    [  # times relative to when the test runs, not to when the suite was collected
        ({"exp": -120}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example.com/realm"}, "issuer"),
        ({"nbf": 600}, "not valid yet"),
        ({"exp": None}, "'exp'"),
        ({"sub": None}, "'sub'"),
    ],
)
def test_bad_claims_are_refused(provider: Provider, claims: dict[str, Any], reason: str) -> None:
    now = int(time.time())
    timed = {k: now + v if k in ("exp", "nbf") and v is not None else v for k, v in claims.items()}
    with pytest.raises(AuthError, match=reason):
        _verifier(provider).verify(provider.token(**timed))


def test_a_bad_signature_is_refused(provider: Provider) -> None:
    verifier = _verifier(provider)
    good = provider.token()
    head, _, signature = good.split(".")
    forged_body = _b64({**jwt.decode(good, options={"verify_signature": False}), "sub": "root"})
    with pytest.raises(AuthError, match="bad signature"):
        verifier.verify(f"{head}.{forged_body}.{signature}")
    other = Provider(0).add_rsa("k1")  # a stranger's key under a known kid
    with pytest.raises(AuthError, match="bad signature"):
        verifier.verify(provider.token(key=other))
    assert verifier.verify(good).subject == "oidc:ana"


def test_alg_none_is_refused(provider: Provider) -> None:
    verifier = _verifier(provider)
    payload = jwt.decode(provider.token(), options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{_b64(payload)}."
    with pytest.raises(AuthError, match="'none' is not accepted"):
        verifier.verify(unsigned)


def test_hmac_signed_with_the_public_key_is_refused(provider: Provider) -> None:
    """Algorithm confusion: HS256 keyed with the provider's public key (which anyone has)."""
    verifier = _verifier(provider)
    public_pem = (
        provider.keys["k1"]
        .public_key()
        .public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    payload = jwt.decode(provider.token(), options={"verify_signature": False})
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": "k1"})
    signing_input = f"{header}.{_b64(payload)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(AuthError, match="'HS256' is not accepted"):
        verifier.verify(forged)


def test_an_algorithm_outside_the_config_is_refused(provider: Provider) -> None:
    provider.add_ec("e1")
    only_es = _verifier(provider, algorithms=["ES256"])
    assert only_es.verify(provider.token("e1")).subject == "oidc:ana"
    with pytest.raises(AuthError, match="'RS256' is not accepted"):
        only_es.verify(provider.token("k1"))
    with pytest.raises(AuthError, match="unknown key"):  # an EC key cannot check RS256
        _verifier(provider).verify(provider.token("e1", key=provider.keys["k1"]))


@pytest.mark.parametrize("algorithms", [["none"], ["HS256"], ["RS256", "HS512"]])
def test_config_refuses_none_and_hmac(algorithms: list[str]) -> None:
    with pytest.raises(ValidationError, match="not accepted"):
        OidcConfig(issuer="https://id.example.com", audience="a", algorithms=algorithms)
    unchecked = OidcConfig.model_construct(
        issuer="https://id.example.com", audience="a", algorithms=algorithms
    )
    with pytest.raises(ValueError, match="never accepted"):
        OidcVerifier(unchecked)


def test_config_wants_keys_over_https() -> None:
    with pytest.raises(ValidationError, match="https"):
        OidcConfig(issuer="http://id.example.com", audience="a")
    OidcConfig(issuer="http://id.example.com", audience="a", jwks_url="https://id/keys")


def test_malformed_tokens_are_refused(provider: Provider) -> None:
    verifier = _verifier(provider)
    for token in ("", "abc", "a.b.c", provider.token()[:-10] + "%%%%"):
        with pytest.raises(AuthError):
            verifier.verify(token)


def test_rotation_new_key_accepted_after_refresh_removed_key_refused(provider: Provider) -> None:
    clock = Clock()
    verifier = _verifier(provider, clock, jwks_min_interval_s=10)
    old_token = provider.token("k1")
    assert verifier.verify(old_token).subject == "oidc:ana"
    provider.add_rsa("k2")
    del provider.keys["k1"]  # the provider rotates: k2 in, k1 out
    new_token = provider.token("k2", sub="bob")
    with pytest.raises(AuthError, match="unknown key"):
        verifier.verify(new_token)  # within the refetch interval: not fetched again
    assert provider.jwks_hits == 1
    clock.now += 11
    assert verifier.verify(new_token).subject == "oidc:bob"  # unknown kid: refetched
    assert provider.jwks_hits == 2
    with pytest.raises(AuthError, match="unknown key"):
        verifier.verify(old_token)  # k1 is gone now


def test_a_flood_of_unknown_kids_fetches_once_per_interval(provider: Provider) -> None:
    clock = Clock()
    verifier = _verifier(provider, clock, jwks_min_interval_s=10)
    verifier.verify(provider.token())
    for n in range(50):
        with pytest.raises(AuthError, match="unknown key"):
            verifier.verify(provider.token(f"bogus-{n}", key=provider.keys["k1"]))
    assert provider.jwks_hits == 1
    clock.now += 10
    with pytest.raises(AuthError):
        verifier.verify(provider.token("bogus-x", key=provider.keys["k1"]))
    assert provider.jwks_hits == 2


def test_keys_are_refreshed_when_due(provider: Provider) -> None:
    clock = Clock()
    verifier = _verifier(provider, clock, jwks_refresh_s=60)
    verifier.verify(provider.token())
    clock.now += 30
    verifier.verify(provider.token())
    assert provider.jwks_hits == 1
    clock.now += 31
    verifier.verify(provider.token())
    assert provider.jwks_hits == 2


def test_an_unreachable_provider_refuses_with_a_reason() -> None:
    config = OidcConfig(issuer="http://127.0.0.1:9/realm", audience=AUDIENCE)
    verifier = OidcVerifier(config, http_timeout_s=2)
    with pytest.raises(AuthError, match="cannot check tokens now"):
        verifier.verify(Provider(9).token(key=Provider(9).add_rsa("k1")))


def test_async_verify(provider: Provider) -> None:
    verifier = _verifier(provider)
    assert asyncio.run(verifier.verify_async(provider.token())).role is Role.OPERATOR
