"""``python -m lanterna.cli`` is the ``lanterna`` command."""

from lanterna.cli.main import app

app(prog_name="lanterna")
