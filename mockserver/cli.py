"""`twin serve`: run the twin."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `serve` command to the `twin` parser."""
    parser = subparsers.add_parser("serve", help="run the stateful mock of every service")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument("sources", nargs="*", type=Path, metavar="SOURCE",
                        help="spec files, guide files (Markdown or page text) or folders of either to serve "
                             "(default: all of specs/openapi); guides are built in memory")
    parser.add_argument("--spec", type=Path, action="append", default=[],
                        help="the same as SOURCE (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fixture data and ids (default 0)")
    parser.add_argument("--state-file", type=Path, help="load state from this file at start and save it at stop")
    parser.add_argument("--mutant", action="append", default=[], help="start with a deliberate defect (for testing the suite)")
    parser.add_argument("--public-url", help="the URL browsers reach the twin at (default http://HOST:PORT)")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--no-read-cache", action="store_true",
                        help="compute every read afresh (by default answers to identical reads are kept between writes)")
    parser.add_argument("--webhook-secret", default=os.environ.get("TWIN_WEBHOOK_SECRET", "whsec_twin_test"),
                        help="the fake Stripe's webhook signing secret (default $TWIN_WEBHOOK_SECRET or whsec_twin_test)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="a web origin allowed to call with cookies besides loopback ones (repeatable; "
                             "'https://*.example.test' for its subdomains, '*' for any)")
    parser.add_argument("--auth-guide", type=Path, action="append", default=[], metavar="FILE",
                        help="a project's authentication guide (Markdown) refining its /auth-api (repeatable)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Start the server and block until interrupted."""
    from aiohttp import web

    from specs.build import default_spec_paths, load_specs

    from .app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        specs = load_specs([*args.sources, *args.spec] or default_spec_paths(), report=print)
    except FileNotFoundError as error:
        print(f"error: {error.filename}: no such spec, guide or folder", file=sys.stderr)
        return 2
    except ValueError as error:  # GuideError: one line per file refused
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    from specs.auth import authentication_parts

    # A folder's authentication part refines its project's /auth-api, as --auth-guide does.
    auth_guides = [*args.auth_guide, *authentication_parts([*args.sources, *args.spec])]
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    try:
        app = create_app(specs, seed=args.seed, state_file=args.state_file, active_mutants=args.mutant,
                         settings={"public_url": public_url, "webhook_secret": args.webhook_secret,
                                   "read_cache": not args.no_read_cache, "cors_origins": args.cors_origin},
                         auth_guides=auth_guides)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(f"twin: serving {public_url}")
    from .app import WORLD

    for state in app[WORLD].services.values():
        print(f"  {public_url}{state.spec.base_path}  ({state.spec.project} {state.spec.service}, "
              f"{len(state.spec.operations)} operations)")
    print(f"  control API: {public_url}/__twin/personas")
    scheme = public_url.partition("://")[0]
    guided = {path.name for path in auth_guides}
    for project in sorted(app[WORLD].projects):
        print(f"  {project} auth API: {scheme}://{project}.localhost:{args.port}/auth-api/login")
    for name in sorted(guided):
        print(f"  auth guide read: {name}")
    print(f"  API docs:    {public_url}/__twin/docs")
    # Everything built so far (specs, validators, fixtures) lives as long as the process: keep it out
    # of the collector's full passes, which otherwise rescan it while requests wait.
    gc.collect()
    gc.freeze()
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=logging.getLogger("aiohttp.access") if args.access_log else None)
    return 0
