"""``python -m symtn``: the ``symtn`` command."""

from symtn.cli import main

raise SystemExit(main())
