"""``python -m symtn``: the ``symtn`` command."""

from symtn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
