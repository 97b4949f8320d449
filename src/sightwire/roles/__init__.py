"""The distributed roles: ingest, worker, dispatch (see docs/distributed.md)."""
