"""``python -m sightwire`` is the ``sightwire`` command."""

from sightwire.cli import main

main()
