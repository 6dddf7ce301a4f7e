"""`python -m callarchive.cli`: the same as the `callarchive` script."""

from callarchive.cli import main

main()
