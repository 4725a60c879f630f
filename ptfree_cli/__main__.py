"""Lets ``python -m ptfree_cli`` run the command line; nothing else."""

from ptfree_cli.cli import main

main(prog_name="ptfree")
