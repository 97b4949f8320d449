"""PostgreSQL TLS: a ``store.tls`` becomes libpq's sslmode/sslrootcert/sslcert/sslkey."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy
from sqlalchemy import event, text

from sightwire.config.models import StoreConfig
from sightwire.config.security import ClientTlsConfig
from sightwire.security.tls import TlsError, libpq_ssl_args
from sightwire.storage.database import DatabaseError, open_database
from tests.security.certs import Pki, make_pki
from tests.storage.databases import POSTGRES


class _StopError(Exception):
    """Raised instead of connecting: the test only reads what would be sent."""


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


def _connect_params(url: str, tls: ClientTlsConfig | None) -> dict[str, Any]:
    """What the driver would be called with, without a server."""
    db = open_database(url, tls=tls)
    seen: dict[str, Any] = {}

    def capture(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        seen.update(params)
        raise _StopError

    event.listen(db.engine, "do_connect", capture)
    with pytest.raises(_StopError):
        db.engine.connect()
    db.close()
    return seen


def test_tls_settings_reach_the_driver(pki: Pki) -> None:
    tls = ClientTlsConfig(ca=pki.ca, cert=pki.client_cert, key=pki.client_key)
    params = _connect_params("postgresql://sightwire@db.plant/sightwire", tls)
    assert params["sslmode"] == "verify-full"
    assert params["sslrootcert"] == str(pki.ca)
    assert (params["sslcert"], params["sslkey"]) == (str(pki.client_cert), str(pki.client_key))


def test_the_system_cas_or_no_verification() -> None:
    assert libpq_ssl_args(ClientTlsConfig()) == {
        "sslmode": "verify-full",
        "sslrootcert": "system",
    }
    assert libpq_ssl_args(ClientTlsConfig(verify=False)) == {"sslmode": "require"}
    assert libpq_ssl_args(None) == {}


def test_settings_in_the_url_pass_through_too() -> None:
    params = _connect_params("postgresql://db.plant/sw?sslmode=verify-ca&sslrootcert=/ca.pem", None)
    assert (params["sslmode"], params["sslrootcert"]) == ("verify-ca", "/ca.pem")


def test_what_cannot_work_is_refused_with_a_reason(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(TlsError, match="no such file"):
        libpq_ssl_args(ClientTlsConfig(ca=tmp_path / "missing.pem"))
    with pytest.raises(TlsError, match="hostaddr"):
        libpq_ssl_args(ClientTlsConfig(ca=pki.ca, server_name="db.plant"))
    with pytest.raises(DatabaseError, match="PostgreSQL"):
        open_database(f"sqlite:///{tmp_path}/s.db", tls=ClientTlsConfig())


def test_the_store_config_takes_tls(pki: Pki) -> None:
    store = StoreConfig.model_validate(
        {"database": "postgresql://db/sw", "tls": {"ca": str(pki.ca)}}
    )
    assert store.tls is not None and store.tls.ca == pki.ca


@pytest.mark.service
def test_a_real_server_is_asked_for_tls() -> None:
    """``sslmode=require`` reaches the server: it either speaks TLS (pg_stat_ssl says so)
    or refuses, saying it has no SSL; without TLS settings the same server connects."""
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES} is unreachable: {exc}")
    db = open_database(POSTGRES, tls=ClientTlsConfig(verify=False))
    try:
        with db.engine.connect() as conn:
            query = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            assert conn.execute(text(query)).scalar() is True
    except sqlalchemy.exc.OperationalError as exc:
        assert "SSL" in str(exc)  # the server has no TLS: it said so
    finally:
        db.close()
