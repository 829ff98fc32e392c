"""`python -m selib …` is the `selib` command."""
from selib.cli import main

raise SystemExit(main())
