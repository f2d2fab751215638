"""`twin serve`: run the twin."""

from __future__ import annotations

import argparse
import errno
import gc
import logging
import os
import sys
from pathlib import Path

from .stripe.objects import DEFAULT_HISTORY


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    parser.add_argument("--state-file", type=Path,
                        help="keep the state in this SQLite file (created if missing): every change is saved before "
                             "its answer leaves, and loaded at the next start (default: in memory only)")
    parser.add_argument("--state-sync", choices=("normal", "full"), default="normal",
                        help="normal (default): a saved change survives the twin being killed (kill -9); full: also "
                             "survives power loss, at the cost of a disk flush per write")
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
    parser.add_argument("--stripe-history", type=int, default=DEFAULT_HISTORY, metavar="N",
                        help=f"finished objects of each kind the fake Stripe keeps (intents, charges, events, "
                             f"deliveries…; the oldest go first, live ones never; 0 keeps all; default {DEFAULT_HISTORY})")
    parser.add_argument("--control-token", default=os.environ.get("TWIN_CONTROL_TOKEN"),
                        help="require 'Authorization: Bearer TOKEN' on the control API /__twin/* "
                             "(default $TWIN_CONTROL_TOKEN; none)")
    parser.add_argument("--jwt-secret", default=os.environ.get("TWIN_JWT_SECRET"),
                        help="the secret the personas' tokens are signed with (default $TWIN_JWT_SECRET, "
                             "else a built-in development secret)")
    parser.add_argument("--control-origin", action="append",
                        default=[o for o in os.environ.get("TWIN_CONTROL_ORIGINS", "").split(",") if o.strip()],
                        help="a web origin (scheme://host:port) allowed to call the control API besides "
                             "loopback and *.localhost ones (repeatable; default $TWIN_CONTROL_ORIGINS)")
    parser.set_defaults(handler=run)


def exposure_error(host: str, control_token: str | None, jwt_secret: str | None) -> str | None:
    """Why binding to `host` would expose the twin, or None when it is loopback or guarded."""
    from .guard import is_loopback_host
    from .identity import DEFAULT_SECRET

    if is_loopback_host(host):
        return None
    missing = [what for what, ok in (("--control-token (or TWIN_CONTROL_TOKEN)", bool(control_token)),
                                     ("--jwt-secret (or TWIN_JWT_SECRET)", bool(jwt_secret) and jwt_secret != DEFAULT_SECRET))
               if not ok]
    if not missing:
        return None
    return (f"--host {host} would let anyone on the network reset the twin and mint tokens; "
            f"set {' and '.join(missing)}, or bind to 127.0.0.1")


def run(args: argparse.Namespace) -> int:
    """Start the server and block until interrupted."""
    if args.state_file is not None:
        # Before the heavy imports: a file the twin cannot use is refused at once.
        from .persistence import StateFileError
        from .persistence.sqlite import check_file

        try:
            check_file(args.state_file)
        except StateFileError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    from aiohttp import web

    from specs.build import default_spec_paths, load_specs

    from .app import create_app
    from .keys import KEEPER, WORLD
    from .logs import quiet_malformed_requests
    from .settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    quiet_malformed_requests()
    if args.stripe_history < 0:
        print(f"error: --stripe-history must be 0 (keep all) or more, not {args.stripe_history}", file=sys.stderr)
        return 2
    exposed = exposure_error(args.host, args.control_token, args.jwt_secret)
    if exposed is not None:
        print(f"error: {exposed}", file=sys.stderr)
        return 2
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
                         settings=Settings(public_url=public_url, webhook_secret=args.webhook_secret,
                                           read_cache=not args.no_read_cache, cors_origins=args.cors_origin,
                                           state_sync=args.state_sync, control_token=args.control_token,
                                           jwt_secret=args.jwt_secret, control_origins=args.control_origin,
                                           stripe_history=args.stripe_history),
                         auth_guides=auth_guides)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    def banner(_: str) -> None:
        # Printed by run_app once the port is bound: a taken port fails before it, in one line.
        print(f"twin: serving {public_url}")
        for state in app[WORLD].services.values():
            print(f"  {public_url}{state.spec.base_path}  ({state.spec.project} {state.spec.service}, "
                  f"{len(state.spec.operations)} operations)")
        print(f"  control API: {public_url}/__twin/personas"
              + ("  (needs the control token)" if args.control_token else ""))
        scheme = public_url.partition("://")[0]
        for project in sorted(app[WORLD].projects):
            print(f"  {project} auth API: {scheme}://{project}.localhost:{args.port}/auth-api/login")
        for name in sorted({path.name for path in auth_guides}):
            print(f"  auth guide read: {name}")
        print(f"  API docs:    {public_url}/__twin/docs")
        if args.state_file is not None:
            world = app[WORLD]
            records = sum(len(t) for s in world.services.values() for t in s.tables.values())
            loaded = f"loaded, {records} records" if app[KEEPER].loaded else "new"
            print(f"  state file: {args.state_file} ({loaded}; every change saved before its answer, "
                  f"--state-sync {args.state_sync})")
        sys.stdout.flush()

    # Everything built so far (specs, validators, fixtures) lives as long as the process: keep it out
    # of the collector's full passes, which otherwise rescan it while requests wait.
    gc.collect()
    gc.freeze()
    try:
        web.run_app(app, host=args.host, port=args.port, print=banner,
                    access_log=logging.getLogger("aiohttp.access") if args.access_log else None)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(f"error: port {args.port} on {args.host} is already in use (another twin?); choose another --port",
                  file=sys.stderr)
        else:
            print(f"error: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0
