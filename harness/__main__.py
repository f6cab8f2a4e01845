"""``python -m harness``: the qrepro command line (what batch workers run)."""

from harness.cli import main

main()
