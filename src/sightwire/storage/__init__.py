"""Storage: the database (SQLAlchemy, Alembic migrations) and blob stores."""
