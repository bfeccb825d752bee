"""Allow `python -m evidence_cli`."""

from evidence_cli.cli import main

main()
