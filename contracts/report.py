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


def _strings(value: object) -> list[str]:
    """A list of names from the report's loosely typed service info (empty when absent)."""
    return [str(item) for item in value] if isinstance(value, list) else []


def by_operation(report: Report, service: str) -> dict[str, list[RuleResult]]:
    """The service's results grouped by operation, in spec order (service-level ones last)."""
    groups: dict[str, list[RuleResult]] = defaultdict(list)
    for result in report.for_service(service):
        groups[result.operation or SERVICE_LEVEL].append(result)
    order = _strings(report.services.get(service, {}).get("operations"))
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


def skipped_by_reason(report: Report) -> list[tuple[str, int]]:
    """Skipped rule checks grouped by their reason, most frequent first."""
    reasons: dict[str, int] = defaultdict(int)
    for result in report.results:
        if result.status == SKIP:
            reasons[(result.message or "no reason given").split(" (")[0][:160]] += 1
    return sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))


def summary_line(report: Report) -> str:
    counts = report.counts()
    total = max(1, len(report.results))
    return (f"{len(report.services)} service(s), {len(report.results)} rule checks — {counts[PASS]} passed, "
            f"{counts[FAIL]} failed, {counts[SKIP]} skipped ({100 * counts[SKIP] / total:.1f} %) in {report.duration:.1f}s")


def result_line(report: Report) -> str:
    failed = len(report.failed)
    if failed:
        return f"FAIL — {failed} rule(s) broken"
    if report.fail_on_gaps and report.gap_count:
        return f"FAIL — {report.gap_count} operation(s) never answered a success (--fail-on-gaps)"
    return "PASS — every rule holds" + (f" ({report.gap_count} coverage gap(s))" if report.gap_count else "")


def render_text(report: Report, verbose: bool = False) -> str:
    """The terminal report: per operation a line of counts (every rule with `verbose`), then failures,
    skips by reason, coverage gaps, unchecked rules and what the run left behind."""
    lines = [f"twin verify: {summary_line(report)}", ""]
    for service, info in report.services.items():
        lines.append(f"{service}  {info.get('baseUrl')}")
        lines.append(f"  identities: {', '.join(_strings(info.get('identities'))) or 'none'}; Schemathesis calls as {info.get('generatedAs')}")
        if report.durations.get(service):
            lines.append(f"  time: {report.layer_durations(service)}")
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
            if result.exchange:
                lines.append(f"      replay: {result.exchange.get('curl', '')[:600]}")
        lines.append("")
    skipped = skipped_by_reason(report)
    if skipped:
        lines.append("SKIPPED, by reason")
        for reason, count in skipped:
            lines.append(f"  {count:>4} × {reason}")
        lines.append("")
    if report.coverage_gaps:
        lines.append(f"COVERAGE GAPS ({report.gap_count}): operations that never answered a success — their response rules "
                     "were not exercised" + (" (--fail-on-gaps: the run fails)" if report.fail_on_gaps else " (warning)"))
        for service, operations in report.coverage_gaps.items():
            lines.append(f"  {service}: {', '.join(operations)}")
        lines.append("")
    if report.unchecked:
        lines.append(f"UNCHECKED RULES ({sum(len(v) for v in report.unchecked.values())}): stated by the guide, held by no check")
        for guide, statements in report.unchecked.items():
            for statement in statements:
                lines.append(f"  {guide}: {statement}")
        lines.append("")
    if report.left_behind:
        total = sum(len(v) for v in report.left_behind.values())
        lines.append(f"LEFT BEHIND ({total}): records the run created and could not delete (why, then the ids)")
        for service, items in report.left_behind.items():
            by_object: dict[str, list[str]] = defaultdict(list)
            for item in items:
                by_object[f"{item['object']} ({item['reason']})"].append(item["id"])
            for what, ids in by_object.items():
                lines.append(f"  {service} · {what}: {', '.join(ids)}")
        lines.append("")
    lines.append("RESULT: " + result_line(report))
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
        gaps = report.coverage_gaps.get(service)
        if gaps:
            ET.SubElement(props, "property", name="coverageGaps", value=", ".join(gaps))
        if report.durations.get(service):
            ET.SubElement(props, "property", name="layerDurations", value=report.layer_durations(service))
        left = report.left_behind.get(service)
        if left:
            ET.SubElement(props, "property", name="leftBehind", value=", ".join(f"{i['object']}:{i['id']}" for i in left))
        for operation, group in by_operation(report, service).items():
            for result in group:
                case = ET.SubElement(suite, "testcase", classname=f"{service}.{operation}", name=f"{result.rule} [{result.layer}]",
                                     time=f"{result.duration:.3f}")
                case_props = ET.SubElement(case, "properties")
                for name, value in (("service", service), ("operation", result.operation or SERVICE_LEVEL),
                                    ("rule", result.rule), ("layer", result.layer)):
                    ET.SubElement(case_props, "property", name=name, value=value)
                if result.status == FAIL:
                    failure = ET.SubElement(case, "failure", message=(result.message.splitlines() or [""])[0][:500], type=result.layer)
                    failure.text = "\n\n".join([result.message, *result.examples[1:], *_exchange_lines(result)])
                elif result.status == SKIP:
                    ET.SubElement(case, "skipped", message=result.message[:500] or "skipped")
                else:
                    ET.SubElement(case, "system-out").text = f"{result.passed} check(s) held" if result.passed else "held"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _exchange_lines(result: RuleResult) -> list[str]:
    if not result.exchange:
        return []
    return [f"request:\n{result.exchange.get('request', '')}", f"answer:\n{result.exchange.get('response', '')}",
            f"replay:\n{result.exchange.get('curl', '')}"]


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}h2{margin-top:1.6em;font-size:1.2em}
.summary span{display:inline-block;margin-right:1.5em;font-weight:600}.pass{color:#1a7f37}.fail{color:#cf222e}.skip{color:#777}
.zero{color:#999;font-weight:normal}.warn{color:#9a6700}
details{margin:.3em 0;border:1px solid #ddd;border-radius:4px;padding:.3em .6em}details.hasfail{border-color:#cf222e}
summary{cursor:pointer}table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{text-align:left;padding:.2em .5em;
border-bottom:1px solid #eee;vertical-align:top}td.msg,pre{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap}
pre{background:#f6f8fa;padding:.5em;margin:.3em 0;border-radius:4px;overflow-x:auto}
.failure{border:1px solid #cf222e;border-left:6px solid #cf222e;border-radius:4px;padding:.5em 1em;margin:.8em 0}
.failure h3{margin:.2em 0;font-size:1em}.label{font-weight:600;margin-top:.4em}
label{margin-left:1em}
"""
_JS = """
document.getElementById('hidepass').addEventListener('change',e=>{document.querySelectorAll('tr.pass').forEach(
r=>r.style.display=e.target.checked?'none':'')});
"""


def _count(count: int, status: str, word: str) -> str:
    """A count coloured by its status, but only when it is not zero (0 failed is not red)."""
    return f"<span class='{status if count else 'zero'}'>{count} {word}</span>"


def render_html(report: Report) -> str:
    """A self-contained HTML page with everything the terminal report has: the summary, failures first
    (rule, reason, request, answer, curl), skips by reason, coverage gaps, unchecked rules, what was
    left behind, then per service and operation every rule and its outcome."""
    counts = report.counts()
    esc = html.escape
    total = max(1, len(report.results))
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>twin verify</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>twin verify</h1>", "<p class='summary'>",
           f"<span class='{'pass' if report.ok else 'fail'}'>{esc(result_line(report))}</span>",
           _count(counts[PASS], "pass", "passed"), _count(counts[FAIL], "fail", "failed"),
           _count(counts[SKIP], "skip", f"skipped ({100 * counts[SKIP] / total:.1f} %)"),
           f"<span>{len(report.results)} rule checks · {len(report.services)} service(s) · {report.duration:.1f}s</span></p>"]
    failed = report.failed
    if failed:
        out.append(f"<h2 class='fail'>Failures ({len(failed)})</h2>")
        for result in failed:
            out.append("<div class='failure'>")
            out.append(f"<h3>✗ {esc(result.service)} · {esc(result.operation or SERVICE_LEVEL)} · {esc(result.rule)} "
                       f"<span class='skip'>[{esc(result.layer)}]</span></h3>")
            out.append(f"<div class='label'>reason</div><pre>{esc(chr(10).join([result.message, *result.examples[1:]]))}</pre>")
            if result.exchange:
                for label, key in (("request", "request"), ("answer", "response"), ("replay with curl", "curl")):
                    out.append(f"<div class='label'>{label}</div><pre>{esc(result.exchange.get(key, ''))}</pre>")
            out.append("</div>")
    if report.coverage_gaps:
        out.append(f"<h2 class='warn'>Coverage gaps ({report.gap_count})</h2><p>Operations that never answered a success: their "
                   "response rules were not exercised." + (" <b>--fail-on-gaps</b>: the run fails." if report.fail_on_gaps else "")
                   + "</p><ul>")
        out += [f"<li><b>{esc(service)}</b>: {esc(', '.join(ops))}</li>" for service, ops in report.coverage_gaps.items()]
        out.append("</ul>")
    skipped = skipped_by_reason(report)
    if skipped:
        out.append(f"<h2>Skipped, by reason ({counts[SKIP]})</h2><table><tr><th>count</th><th>reason</th></tr>")
        out += [f"<tr><td>{count}</td><td class='msg'>{esc(reason)}</td></tr>" for reason, count in skipped]
        out.append("</table>")
    if report.unchecked:
        out.append(f"<h2 class='warn'>Unchecked rules ({sum(len(v) for v in report.unchecked.values())})</h2><ul>")
        out += [f"<li>{esc(guide)}: {esc(statement)}</li>" for guide, items in report.unchecked.items() for statement in items]
        out.append("</ul>")
    if report.left_behind:
        out.append(f"<h2>Left behind ({sum(len(v) for v in report.left_behind.values())})</h2>"
                   "<p>Records the run created and could not delete, and why.</p>"
                   "<table><tr><th>service</th><th>object</th><th>id</th><th>why</th></tr>")
        out += [f"<tr><td>{esc(service)}</td><td>{esc(item['object'])}</td><td class='msg'>{esc(item['id'])}</td>"
                f"<td>{esc(item['reason'])}</td></tr>" for service, items in report.left_behind.items() for item in items]
        out.append("</table>")
    out.append("<h2>Every rule, per service and operation</h2><label><input type='checkbox' id='hidepass'> hide passed rules</label>")
    for service, info in report.services.items():
        out.append(f"<h2>{esc(service)}</h2><p>{esc(str(info.get('baseUrl')))} — identities: "
                   f"{esc(', '.join(_strings(info.get('identities'))))}; Schemathesis as {esc(str(info.get('generatedAs')))}"
                   + (f"<br>time: {esc(report.layer_durations(service))}" if report.durations.get(service) else "") + "</p>")
        for operation, results in by_operation(report, service).items():
            c = _counts(results)
            cls = " class='hasfail' open" if c[FAIL] else ""
            out.append(f"<details{cls}><summary><b>{esc(operation)}</b> — {_count(c[PASS], 'pass', 'passed')}, "
                       f"{_count(c[FAIL], 'fail', 'failed')}, {_count(c[SKIP], 'skip', 'skipped')}</summary>")
            out.append("<table><tr><th></th><th>rule</th><th>layer</th><th>checks</th><th>detail</th></tr>")
            for result in results:
                message = "\n\n".join([result.message, *result.examples[1:], *_exchange_lines(result)]) if result.status != PASS else ""
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
        "settings": report.settings, "coverageGaps": report.coverage_gaps, "leftBehind": report.left_behind,
        "unchecked": report.unchecked,
        "durations": {service: {layer: round(seconds, 3) for layer, seconds in spent.items()}
                      for service, spent in report.durations.items()},
        "skippedByReason": dict(skipped_by_reason(report)),
        "results": [{"service": r.service, "operation": r.operation, "rule": r.rule, "layer": r.layer, "status": r.status,
                     "message": r.message, "passed": r.passed, "failed": r.failed, "examples": r.examples,
                     "exchange": r.exchange} for r in report.results],
    }, indent=2)
