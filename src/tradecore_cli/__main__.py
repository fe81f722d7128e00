"""``python -m tradecore_cli`` runs the command line."""

from tradecore_cli.main import cli

cli(prog_name="tradecore")
