"""``python -m lpsched`` runs the command line."""

from .cli import main

main()
