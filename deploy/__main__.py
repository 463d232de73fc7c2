"""``python -m deploy`` runs the ``smartstreets`` command (used by the demo for its children)."""

from deploy.cli import main

main()
