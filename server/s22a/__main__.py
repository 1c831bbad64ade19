"""`python -m s22a` runs the `s22a` command."""

from .cli import main

main()
