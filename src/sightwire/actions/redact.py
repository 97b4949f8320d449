"""Keep secrets (tokens, passwords, Slack webhook URLs) out of details and logs.

Config fields that hold secrets are ``SecretStr`` (their repr is ``'**********'``).
Where a secret must be used in the clear, e.g. a Slack URL that httpx logs at INFO
("HTTP Request: POST https://hooks.slack.com/services/..."), the action registers it
here and the filter on the HTTP client loggers masks it before any handler sees it.

>>> scrub("POST https://hooks.example/T000/B000/XXXX failed", ["https://hooks.example/T000"])
'POST *****/B000/XXXX failed'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

MASK = "*****"
_MIN_LENGTH = 4  # masking shorter strings would mangle ordinary words
_CLIENT_LOGGERS = (
    "sightwire.http",  # actions/http_pool.py
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (of at least four characters) masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_LENGTH:
            text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    """Masks registered secrets in the records of the loggers it is attached to."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        with self._lock:
            self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = tuple(self._secrets)
        message = record.getMessage()
        cleaned = scrub(message, secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = SecretFilter()


def protect(secret: str) -> None:
    """Mask ``secret`` in the log records of the HTTP client libraries."""
    if len(secret) < _MIN_LENGTH:
        return
    _FILTER.add(secret)
    for name in _CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
