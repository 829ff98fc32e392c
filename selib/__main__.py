"""`python -m selib …` is the `selib` command."""
from selib.cli import run

run()
