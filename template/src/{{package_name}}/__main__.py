"""Entry point of ``python -m <package>``."""

from .cli import main

raise SystemExit(main(prog=f"python -m {__package__}"))
