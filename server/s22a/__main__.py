"""`python -m s22a` runs the `s22a` command."""

from s22a.cli import main

main()
