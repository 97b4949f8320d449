"""Actions: one module per kind of destination, registered in ``registry.py``."""
