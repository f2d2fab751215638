"""`twin verify`: prove a deployment (or a twin) behaves like its guides.

Exit status: 0 when every rule holds (skips allowed), 1 when a rule is broken, 2 when the suite
cannot run (bad options, unreadable config, unreachable target).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .target import ConfigError, Settings, build_target, load_config

LAYERS = ("probes", "scenarios", "generated")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
DEFAULT_PHASES = Settings.phases


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `verify` command to the `twin` parser."""
    parser = subparsers.add_parser(
        "verify", help="run the conformance suite against a deployment or a twin",
        description="Run the conformance suite: generated checks (Schemathesis), probes and scenarios; "
                    "exit 0 only when every rule holds.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--base-url", help="root URL of the deployment (services at their base paths) or of a twin")
    where.add_argument("--env", choices=("preview", "staging", "production"), help="use the specs' server of that environment")
    parser.add_argument("--spec", action="extend", nargs="+", default=[], metavar="SPEC",
                        help="spec file, guide file (Markdown or page text), folder of either, or a committed spec's slug "
                             "or project (repeatable; default: all specs, or the twin's services)")
    parser.add_argument("--config", type=Path, help="YAML/JSON file with identities, hooks, data and settings")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write an HTML report")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write a JSON report")
    parser.add_argument("--max-examples", type=int, help="Schemathesis examples per operation and phase (default 5)")
    parser.add_argument("--seed", type=int, help="Hypothesis seed (default 1: runs are repeatable)")
    parser.add_argument("--phases", type=_csv, help=f"Schemathesis phases, comma-separated (default {','.join(DEFAULT_PHASES)}; also: examples)")
    parser.add_argument("--layers", type=_csv, help=f"suite layers, comma-separated (default {','.join(LAYERS)})")
    parser.add_argument("--only", action="extend", nargs="+", default=[], metavar="SCENARIO",
                        help="run only scenarios matching these names or prefixes (e.g. tutorhub.refund-window crud.*)")
    parser.add_argument("--jobs", type=int, help="services verified concurrently (default 3)")
    parser.add_argument("--timeout", type=float, help="seconds per request (default 10)")
    parser.add_argument("--payment-wait", type=float, help="seconds to wait for a payment webhook (default 10)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="import a module that registers extra checks or scenarios (repeatable)")
    parser.add_argument("--control-token", default=None,
                        help="bearer token of a twin's guarded control API (default $TWIN_CONTROL_TOKEN)")
    parser.add_argument("--fail-on-gaps", action="store_true",
                        help="fail the run when an operation never answered a success (a coverage gap)")
    parser.add_argument("--no-cleanup", action="store_true",
                        help="keep what the run created (by default it is deleted again where the API allows)")
    parser.add_argument("--no-discovery", action="store_true", help="do not ask a twin's control API for services and personas")
    parser.add_argument("--list", action="store_true",
                        help="list the rule inventory of each guide (every rule, the guide it comes from, what checks it), "
                             "the checks and the scenarios, then exit")
    parser.add_argument("--unchecked", action="store_true", help="with --list: show only the rules no check holds")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every rule per operation in the terminal")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only failures and the result line")
    parser.set_defaults(handler=run)


def _settings(args: argparse.Namespace) -> dict[str, object]:
    for name, allowed in (("layers", LAYERS), ("phases", PHASES)):
        unknown = set(getattr(args, name) or []) - set(allowed)
        if unknown:
            raise ConfigError(f"--{name}: unknown {sorted(unknown)}; choose from {', '.join(allowed)}")
    return {"max_examples": args.max_examples, "seed": args.seed, "phases": args.phases, "layers": args.layers,
            "only": args.only or None, "jobs": args.jobs, "timeout": args.timeout, "payment_wait": args.payment_wait,
            "cleanup": False if args.no_cleanup else None}


def list_rules(spec_names: list[str] | None = None, unchecked_only: bool = False) -> str:
    """The rule inventory of each guide (every rule it states and the checks that hold it), then the
    registered checks and scenarios, for `twin verify --list`."""
    from .checks import REGISTRY
    from .client import STATEFUL_CHECKS
    from .inventory import render_inventory
    from .registry import load_builtins
    from .scenarios.base import SCENARIOS
    from .spec import default_spec_paths, find_spec, load_spec
    from .target import ServiceTarget

    load_builtins()
    paths = [find_spec(name) for name in spec_names] if spec_names else default_spec_paths()
    targets = [ServiceTarget(spec=load_spec(path), base_url="") for path in paths]
    lines = ["RULE INVENTORY (per guide: each rule it states, and what holds a backend to it)", "",
             render_inventory(targets, unchecked_only=unchecked_only), ""]
    lines += ["Response checks (on every generated case and every scenario call; registered with Schemathesis):"]
    lines += [f"  {c.name:<24} [{c.category}] {c.description}" for c in REGISTRY.values()]
    lines += [f"  {name:<24} [stateful] {text}" for name, text in STATEFUL_CHECKS.items()]
    lines += ["", "Scenarios:"]
    for item in SCENARIOS.values():
        where = ", ".join(item.projects) if item.projects else "every service"
        rules = "" if callable(item.rules) else f": {', '.join(item.rules)}"
        lines.append(f"  {item.name:<36} ({where}) {item.title}{rules}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Build the target, run the suite, write the reports; exit 0 only when every rule holds."""
    from specs.parser import GuideError

    from .registry import load_plugins
    from .report import render_html, render_json, render_junit, render_text
    from .runner import verify
    from .spec import SpecFileError

    try:
        config = load_config(args.config)
        # Plugins first: --list shows what they register too.
        load_plugins([*config.get("plugins", []), *args.plugin])
        if args.list:
            print(list_rules(args.spec or None, unchecked_only=args.unchecked))
            return 0
        target = build_target(base_url=args.base_url, env_name=args.env, specs=args.spec or None, config=config,
                              discover=not args.no_discovery, settings=_settings(args),
                              control_token=args.control_token)
    except (GuideError, SpecFileError) as error:  # one line per guide or spec file refused
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except (ConfigError, FileNotFoundError, OSError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not target.services:
        print("error: no service to verify (no spec given, and the target offers none)", file=sys.stderr)
        return 2
    report = verify(target)
    report.fail_on_gaps = args.fail_on_gaps
    for path, render in ((args.junit, render_junit), (args.html, render_html), (args.json, render_json)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(report), encoding="utf-8")
    text = render_text(report, verbose=args.verbose)
    if args.quiet:
        text = "\n".join(line for line in text.splitlines() if line.startswith(("  ✗", "      ", "FAILURES", "RESULT")))
    print(text)
    return 0 if report.ok else 1
