"""HTTPS for ``sightwire serve``: a :class:`TlsConfig` turned into uvicorn's settings.

Files are checked before the server starts, so a wrong path or a key that does not
match its certificate is one clear error, not a failed handshake later.

>>> uvicorn_ssl_kwargs(None)
{}
>>> # uvicorn.run(app, **uvicorn_ssl_kwargs(TlsConfig(cert="site.pem", key="site.key")))
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sightwire.config.security import TlsConfig

__all__ = ["TlsError", "uvicorn_ssl_kwargs"]


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
