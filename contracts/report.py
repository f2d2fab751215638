"""Reports of a run: a readable terminal summary, JUnit XML (for CI), a self-contained HTML page and
JSON. Every report lists each rule per operation with pass / fail / skip and the reason."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from xml.etree import ElementTree as ET

from .results import FAIL, PASS, SKIP, Report, RuleResult

SERVICE_LEVEL = "(service)"
MARK = {PASS: "✓", FAIL: "✗", SKIP: "-"}


def by_operation(report: Report, service: str) -> dict[str, list[RuleResult]]:
    """The service's results grouped by operation, in spec order (service-level ones last)."""
    groups: dict[str, list[RuleResult]] = defaultdict(list)
    for result in report.for_service(service):
        groups[result.operation or SERVICE_LEVEL].append(result)
    order = list(report.services.get(service, {}).get("operations", []))  # type: ignore[arg-type]
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order and k != SERVICE_LEVEL)
    if SERVICE_LEVEL in groups:
        keys.append(SERVICE_LEVEL)
    return {key: sorted(groups[key], key=lambda r: (r.status != FAIL, r.layer, r.rule)) for key in keys}


def _counts(results: list[RuleResult]) -> dict[str, int]:
    counts = {PASS: 0, FAIL: 0, SKIP: 0}
    for result in results:
        counts[result.status] += 1
    return counts


def _detail(result: RuleResult) -> str:
    tally = f" ({result.passed} ok, {result.failed} failed)" if result.layer not in ("scenario", "probe") and result.passed + result.failed > 1 else ""
    return tally


def render_text(report: Report, verbose: bool = False) -> str:
    """The terminal report: per operation a line of counts (every rule with `verbose`), then failures."""
    counts = report.counts()
    lines = [f"twin verify: {len(report.services)} service(s), {len(report.results)} rule checks — "
             f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped in {report.duration:.1f}s", ""]
    for service, info in report.services.items():
        lines.append(f"{service}  {info.get('baseUrl')}")
        lines.append(f"  identities: {', '.join(info.get('identities') or []) or 'none'}; Schemathesis calls as {info.get('generatedAs')}")
        for operation, results in by_operation(report, service).items():
            c = _counts(results)
            status = "FAIL" if c[FAIL] else "ok  "
            lines.append(f"  {status} {operation:<42} {c[PASS]:>3} passed {c[FAIL]:>3} failed {c[SKIP]:>3} skipped")
            if verbose:
                for result in results:
                    reason = f" — {result.message.splitlines()[0][:160]}" if result.message and result.status != PASS else ""
                    lines.append(f"       {MARK[result.status]} [{result.layer}] {result.rule}{_detail(result)}{reason}")
        lines.append("")
    failed = report.failed
    if failed:
        lines.append(f"FAILURES ({len(failed)})")
        for result in failed:
            where = f"{result.service} · {result.operation or SERVICE_LEVEL}"
            lines.append(f"  ✗ {where} · {result.rule} [{result.layer}]")
            for line in (result.message or "").splitlines()[:6]:
                lines.append(f"      {line[:400]}")
            for example in result.examples[1:3]:
                lines.append(f"      also: {example.splitlines()[0][:300]}")
        lines.append("")
    skipped = [r for r in report.results if r.status == SKIP and r.layer in ("scenario", "probe", "generated")]
    if skipped:
        reasons: dict[str, int] = defaultdict(int)
        for result in skipped:
            reasons[result.message.split(" (")[0][:140]] += 1
        lines.append("SKIPPED scenario rules, by reason")
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {count:>4} × {reason}")
        lines.append("")
    lines.append("RESULT: " + ("PASS — every rule holds" if report.ok else f"FAIL — {len(failed)} rule(s) broken"))
    return "\n".join(lines)


def render_junit(report: Report) -> str:
    """JUnit XML: a test suite per service, a test case per (operation, rule)."""
    counts = report.counts()
    root = ET.Element("testsuites", name="twin verify", tests=str(len(report.results)), failures=str(counts[FAIL]),
                      skipped=str(counts[SKIP]), errors="0", time=f"{report.duration:.3f}")
    for service in report.services:
        results = report.for_service(service)
        c = _counts(results)
        suite = ET.SubElement(root, "testsuite", name=service, tests=str(len(results)), failures=str(c[FAIL]),
                              skipped=str(c[SKIP]), errors="0", time=f"{sum(r.duration for r in results):.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="baseUrl", value=str(report.services[service].get("baseUrl")))
        for operation, group in by_operation(report, service).items():
            for result in group:
                case = ET.SubElement(suite, "testcase", classname=f"{service}.{operation}", name=f"{result.rule} [{result.layer}]",
                                     time=f"{result.duration:.3f}")
                if result.status == FAIL:
                    failure = ET.SubElement(case, "failure", message=(result.message.splitlines() or [""])[0][:500], type=result.layer)
                    failure.text = "\n\n".join([result.message, *result.examples[1:]])
                elif result.status == SKIP:
                    ET.SubElement(case, "skipped", message=result.message[:500] or "skipped")
                else:
                    ET.SubElement(case, "system-out").text = f"{result.passed} check(s) held" if result.passed else "held"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}h2{margin-top:2em;font-size:1.2em}
.summary span{display:inline-block;margin-right:1.5em;font-weight:600}.pass{color:#1a7f37}.fail{color:#cf222e}.skip{color:#777}
details{margin:.3em 0;border:1px solid #ddd;border-radius:4px;padding:.3em .6em}details.hasfail{border-color:#cf222e}
summary{cursor:pointer}table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{text-align:left;padding:.2em .5em;
border-bottom:1px solid #eee;vertical-align:top}td.msg{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap}
label{margin-left:1em}
"""
_JS = """
document.getElementById('hidepass').addEventListener('change',e=>{document.querySelectorAll('tr.pass').forEach(
r=>r.style.display=e.target.checked?'none':'')});
"""


def render_html(report: Report) -> str:
    """A self-contained HTML page: summary, then per service and operation every rule and its outcome."""
    counts = report.counts()
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>twin verify</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>twin verify</h1>", "<p class='summary'>",
           f"<span class='pass'>{counts[PASS]} passed</span><span class='fail'>{counts[FAIL]} failed</span>",
           f"<span class='skip'>{counts[SKIP]} skipped</span><span>{report.duration:.1f}s</span>",
           f"<span class='{'pass' if report.ok else 'fail'}'>{'PASS' if report.ok else 'FAIL'}</span></p>",
           "<label><input type='checkbox' id='hidepass'> hide passed rules</label>"]
    esc = html.escape
    for service, info in report.services.items():
        out.append(f"<h2>{esc(service)}</h2><p>{esc(str(info.get('baseUrl')))} — identities: "
                   f"{esc(', '.join(info.get('identities') or []))}; Schemathesis as {esc(str(info.get('generatedAs')))}</p>")
        for operation, results in by_operation(report, service).items():
            c = _counts(results)
            cls = " class='hasfail' open" if c[FAIL] else ""
            out.append(f"<details{cls}><summary><b>{esc(operation)}</b> — <span class='pass'>{c[PASS]} passed</span>, "
                       f"<span class='fail'>{c[FAIL]} failed</span>, <span class='skip'>{c[SKIP]} skipped</span></summary>")
            out.append("<table><tr><th></th><th>rule</th><th>layer</th><th>checks</th><th>detail</th></tr>")
            for result in results:
                message = "\n\n".join([result.message, *result.examples[1:]]) if result.status != PASS else ""
                out.append(f"<tr class='{result.status}'><td class='{result.status}'>{MARK[result.status]}</td><td>{esc(result.rule)}</td>"
                           f"<td>{esc(result.layer)}</td><td>{result.passed}/{result.passed + result.failed}</td>"
                           f"<td class='msg'>{esc(message)}</td></tr>")
            out.append("</table></details>")
    out.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(out)


def render_json(report: Report) -> str:
    """Machine-readable results."""
    return json.dumps({
        "ok": report.ok, "counts": report.counts(), "duration": round(report.duration, 3), "services": report.services,
        "settings": report.settings,
        "results": [{"service": r.service, "operation": r.operation, "rule": r.rule, "layer": r.layer, "status": r.status,
                     "message": r.message, "passed": r.passed, "failed": r.failed, "examples": r.examples} for r in report.results],
    }, indent=2)
