"""The `twin` command: `twin specs …`, `twin serve`, `twin verify`."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each subcommand lives with the package it drives; a missing one is simply not offered.
_COMMANDS = ("specs.cli", "mockserver.cli", "contracts.cli")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(prog="twin", description="Guides → OpenAPI specs, a stateful twin, a conformance suite.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in _COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
