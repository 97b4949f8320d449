"""TLS settings turned into what libraries take.

- :func:`uvicorn_ssl_kwargs`: HTTPS for ``sightwire serve`` (a :class:`TlsConfig`).
- :func:`ssl_context`: an :class:`ssl.SSLContext` for the clients sightwire runs
  (a :class:`ClientTlsConfig`): aiohttp, aiomqtt, and the ``bus:`` brokers (nats-py
  ``connect(tls=..., tls_hostname=...)``, aiokafka ``ssl_context=...``).
- :func:`libpq_ssl_args`: PostgreSQL's ``sslmode``/``sslrootcert``/``sslcert``/``sslkey``.

Files are checked when the context is made, so a wrong path or a key that does not
match its certificate is one clear error, not a failed handshake later.

>>> uvicorn_ssl_kwargs(None)
{}
>>> ssl_context(ClientTlsConfig()).verify_mode == ssl.CERT_REQUIRED
True
>>> # uvicorn.run(app, **uvicorn_ssl_kwargs(TlsConfig(cert="site.pem", key="site.key")))
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sightwire.config.security import ClientTlsConfig, TlsConfig

__all__ = ["TlsError", "libpq_ssl_args", "ssl_context", "uvicorn_ssl_kwargs"]


class TlsError(ValueError):
    """A certificate, key or CA file that cannot serve HTTPS; the message says which."""


def uvicorn_ssl_kwargs(tls: TlsConfig | None) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config``/``uvicorn.run``; ``{}`` without TLS.

    With ``client_ca`` set, clients must present a certificate that CA signed
    (mutual TLS): ``ssl_cert_reqs=ssl.CERT_REQUIRED``.
    """
    if tls is None:
        return {}
    cert, key = _readable(tls.cert, "certificate"), _readable(tls.key, "private key")
    _check_pair(cert, key)
    kwargs: dict[str, Any] = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    if tls.client_ca is not None:
        ca = _readable(tls.client_ca, "client CA")
        _check_ca(ca)
        kwargs |= {"ssl_ca_certs": str(ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return kwargs


def _readable(path: Path, what: str) -> Path:
    if not path.is_file():
        raise TlsError(f"TLS {what} {path}: no such file")
    if not os.access(path, os.R_OK):
        raise TlsError(f"TLS {what} {path}: not readable by this user")
    return path


def _check_pair(cert: Path, key: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:  # the password callback stops OpenSSL from prompting on the terminal
        context.load_cert_chain(cert, key, password=_no_password(key))
    except ssl.SSLError as exc:
        raise TlsError(
            f"TLS certificate {cert} and key {key}: not a PEM pair that matches ({exc.reason})"
        ) from None
    except OSError as exc:
        raise TlsError(f"TLS certificate {cert} or key {key}: {exc}") from None


def _check_ca(ca: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cafile=ca)
    except (ssl.SSLError, OSError) as exc:
        raise TlsError(f"TLS client CA {ca}: not a PEM CA bundle ({exc})") from None


def _no_password(key: Path) -> Callable[[], str]:
    def refuse() -> str:
        raise TlsError(f"TLS private key {key} is encrypted: give an unencrypted PEM key")

    return refuse


def ssl_context(tls: ClientTlsConfig) -> ssl.SSLContext:
    """A client context: TLS 1.2 or newer, the CA bundle (else the system's), the
    client certificate when set; ``verify: false`` checks neither certificate nor name.

    ``server_name`` is not in the context (Python sets SNI and the expected name per
    connection): pass it as the library's ``server_hostname``/``tls_hostname``, or
    use :func:`expecting` where it takes only a context.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.ca is not None:
        ca = _readable(tls.ca, "CA bundle")
        try:
            context.load_verify_locations(cafile=ca)
        except (ssl.SSLError, OSError) as exc:
            raise TlsError(f"TLS CA bundle {ca}: not a PEM CA bundle ({exc})") from None
    if tls.cert is not None:
        cert = _readable(tls.cert, "client certificate")
        key = _readable(tls.key, "client key") if tls.key is not None else None
        try:
            context.load_cert_chain(cert, key, password=_no_password(key or cert))
        except ssl.SSLError as exc:
            raise TlsError(
                f"TLS client certificate {cert} and key {key}: not a PEM pair that matches "
                f"({exc.reason})"
            ) from None
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return expecting(context, tls.server_name) if tls.server_name else context


def expecting(context: ssl.SSLContext, server_name: str) -> ssl.SSLContext:
    """``context``, but every connection expects (and sends as SNI) ``server_name``
    whatever host it reaches: for clients that take a context and nothing else."""
    original = context.wrap_socket, context.wrap_bio

    def wrap_socket(sock: Any, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        kwargs["server_hostname"] = server_name
        return original[0](sock, *args, **kwargs)

    def wrap_bio(incoming: Any, outgoing: Any, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        kwargs["server_hostname"] = server_name
        return original[1](incoming, outgoing, *args, **kwargs)

    context.wrap_socket = wrap_socket  # type: ignore[method-assign]
    context.wrap_bio = wrap_bio  # type: ignore[method-assign]
    return context


def libpq_ssl_args(tls: ClientTlsConfig | None) -> dict[str, str]:
    """psycopg connect arguments for ``tls``: ``verify-full`` with the CA (or the
    system's: ``sslrootcert=system``), ``require`` (encrypt, check nothing) when
    ``verify`` is false; the client certificate for mutual TLS. ``{}`` without TLS
    (then libpq's default ``sslmode=prefer``, or what the URL says, applies).

    >>> libpq_ssl_args(ClientTlsConfig(verify=False))
    {'sslmode': 'require'}
    """
    if tls is None:
        return {}
    if not tls.verify:
        args = {"sslmode": "require"}
    else:
        root = str(_readable(tls.ca, "CA bundle")) if tls.ca is not None else "system"
        args = {"sslmode": "verify-full", "sslrootcert": root}
    if tls.cert is not None:
        args["sslcert"] = str(_readable(tls.cert, "client certificate"))
    if tls.key is not None:
        args["sslkey"] = str(_readable(tls.key, "client key"))
    if tls.server_name is not None:  # libpq checks the URL's host, and has no override
        raise TlsError(
            "PostgreSQL: server_name is not supported; put the certificate's name in the "
            "URL's host and the address in ?hostaddr=IP"
        )
    return args
