"""`twin specs build|check`: derive the OpenAPI specs from the guides."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import OPENAPI_DIR, BuildResult, build, build_project, validate
from .parser import GuideError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `specs` command to the `twin` parser."""
    parser = subparsers.add_parser("specs", help="derive OpenAPI specs from the guides")
    sub = parser.add_subparsers(dest="specs_command", required=True)
    for name, text in (("build", "write specs/openapi/*.yaml"), ("check", "fail if the committed specs are stale")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("guides", nargs="*", type=Path,
                         help="guide files or folders of a project's guides, Markdown or page text (default: specs/guides/*.txt)")
        cmd.add_argument("--out", type=Path, default=OPENAPI_DIR, help="output folder (default: specs/openapi)")
        cmd.add_argument("--quiet", "-q", action="store_true", help="do not list the guides' warnings")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build or check; exit 0 when all is well, 1 when stale or invalid, 2 when a file was refused
    (the other files are still built)."""
    write = args.specs_command == "build"
    try:
        if args.guides:
            project = build_project(args.guides, args.out, write=write)
        else:
            project = None
            results = build(None, args.out, write=write)
    except GuideError as error:  # one of the project's own guides (specs/guides) is broken
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    if project is not None:
        results = project.results
    failed = not all([_report(result, write=write, quiet=args.quiet) for result in results])  # report every one
    if project is not None:
        for part in project.parts:
            print(f"{part}: not a service guide; no spec")
        for refused in project.errors:
            print(f"error: {refused}", file=sys.stderr)
    if not write and failed:
        print("specs are stale or invalid: run `twin specs build` and commit the result", file=sys.stderr)
    if project is not None and project.errors:
        return 2
    return 1 if failed else 0


def _report(result: BuildResult, *, write: bool, quiet: bool) -> bool:
    """Print one guide's outcome; False when its spec is invalid, or stale under `check`."""
    import yaml

    ok = True
    service = result.service
    try:
        validate(yaml.safe_load(result.text))
    except Exception as error:  # the validator raises several types; all mean "invalid"
        print(f"{result.target.name}: INVALID OpenAPI: {error}", file=sys.stderr)
        ok = False
    state = ("written" if result.stale else "unchanged") if write else ("STALE" if result.stale else "up to date")
    print(f"{result.guide.name} → {result.target}: {len(service.apis)} operations, "
          f"{len(service.data_objects)} data objects, {len(service.warnings)} warnings [{state}]")
    if not quiet:
        for warning in service.warnings:
            print(f"  warning: {result.guide.name}:{warning}")
    return ok and (write or not result.stale)
