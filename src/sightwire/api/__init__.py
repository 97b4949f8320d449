"""The REST API: events, snapshots, cameras, uploads, rules, deliveries, models, health.

>>> # from sightwire.api import ApiContext, create_app
>>> # app = create_app(ApiContext.open(config))
"""

from sightwire.api.app import create_app
from sightwire.api.context import ApiContext

__all__ = ["ApiContext", "create_app"]
