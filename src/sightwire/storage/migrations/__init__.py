"""Alembic migrations of the Sightwire database; run them with ``sightwire db upgrade``."""
