"""Quick checks of the benchmark's own parts (not in the default test run: `pytest bench`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import scenario, stubs, wrk
from bench.compare import requests_for

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8080/x
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  300.00us  12.00ms   90.00%
  Latency Distribution
     50%    2.03ms
     75%    2.10ms
     90%    2.20ms
     99%  850.00us
  123456 requests in 10.00s, 80.00MB read
  Non-2xx or 3xx responses: 5
  Socket errors: connect 0, read 1, write 0, timeout 0
Requests/sec:  12345.67
Transfer/sec:      8.00MB
"""


def test_parse_latency_table() -> None:
    result = wrk.parse(WRK_OUTPUT)
    assert result.requests_per_sec == 12345.67
    assert result.p50_ms == 2.03
    assert result.p99_ms == 0.85
    assert result.requests == 123456
    assert result.errors == 6


def test_parse_done_hook_line() -> None:
    line = ('BENCH {"requests": 1000, "duration_us": 2000000, "p50_us": 1500, "p99_us": 9000, "mean_us": 1.0, '
            '"max_us": 1, "connect": 0, "read": 0, "write": 0, "status": 2, "timeout": 0}\n')
    result = wrk.parse(WRK_OUTPUT + line, require_hook=True)
    assert (result.p50_ms, result.p99_ms, result.errors, result.requests) == (1.5, 9.0, 2, 1000)


def test_lua_string_escapes_everything_odd() -> None:
    assert wrk._lua_string('a"b\\c\né') == '"a\\034b\\092c\\010\\195\\169"'


def test_stubs_share_one_envelope(tmp_path: Path) -> None:
    plan = scenario.load()
    exchanges = stubs.sample_exchanges(requests_for(plan, "3fbc6b68-32a6-4e4b-91f6-2e4ba9239f9d"))
    assert [e.name for e in exchanges] == ["get", "list", "create"]
    assert exchanges[2].method == "POST" and json.loads(exchanges[2].body or "{}")["orderId"]
    spec = json.loads(stubs.prism_spec(plan.spec_path, exchanges, tmp_path / "spec.json").read_text())
    get = spec["paths"][plan.base_path + plan.get.template]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["example"] == json.loads(exchanges[0].response)
    root = stubs.wiremock_root(exchanges, tmp_path / "wm")
    mapping = json.loads((root / "mappings" / "create.json").read_text())
    assert mapping["request"]["url"] == exchanges[2].path
    assert mapping["response"]["body"] == exchanges[2].response


def test_scale_times_distinct_requests_on_the_engine_and_one_repeated_on_the_cache() -> None:
    from bench import scale

    state = scale.ObjectState("sys_enrollmentPayment", lambda i: {}, ids=[f"id{i}" for i in range(400)],
                              order_ids=[f"o{i}" for i in range(400)],
                              payment_ids=[f"pi_{i:024x}" for i in range(400)], owners=[f"u{i}" for i in range(50)])
    for query in scale.QUERIES:
        paths = query.paths(state, 301)
        assert len(paths) == len(set(paths)) == 301, query.key
    search = next(q for q in scale.QUERIES if q.key == "pay.search").paths(state, 50)
    assert all("paymentId=" in p and "pi_" not in p.split("paymentId=")[1] for p in search)

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def request(self, method: str, path: str) -> object:
            self.sent.append(path)
            return type("A", (), {"status": 200, "seconds": 0.001, "json": lambda self: {"paging": {"totalRowCount": 3}}})()

    engine = Recorder()
    timing = scale.time_query(engine, ["/warm", "/a", "/b", "/c", "/d", "/e", "/f"], budget=10, max_reps=100)  # type: ignore[arg-type]
    assert engine.sent == ["/warm", "/a", "/b", "/c", "/d", "/e", "/f"] and timing.distinct and timing.samples == 6
    cached = Recorder()
    timing = scale.time_query(cached, ["/same"], budget=10, max_reps=7)  # type: ignore[arg-type]
    assert set(cached.sent) == {"/same"} and timing.samples == 7 and not timing.distinct


def test_verify_bench_prints_totals_and_each_layer() -> None:
    from bench.verify import Measurement

    report = {"counts": {"pass": 97, "fail": 0, "skip": 3},
              "durations": {"tutorhub-enrollmentmanagement": {"probes": 0.4, "scenarios": 3.0, "generated": 7.25}}}
    lines = Measurement(wall=12.34, cpu=10.0, twin_cpu=1.5, exit_code=0, report=report).lines()
    assert lines[0].startswith("wall 12.3s  CPU 10.0s (twin verify)  +1.5s (twin)  exit 0  100 rule checks")
    assert "3 skipped (3.0 %)" in lines[0]
    assert lines[1].split() == ["tutorhub-enrollmentmanagement", "probes", "0.4s", "scenarios", "3.0s", "generated", "7.2s"]


def test_cpu_report_turns_medians_into_shares_of_the_bare_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import cpu

    args = cpu.parse_args(["--servers", "twin,bare", "--requests", "create", "--rounds", "3"])
    samples = {
        "twin": {"create": [cpu.Sample(1000, 0.200, 0), cpu.Sample(1000, 0.100, 0), cpu.Sample(1000, 0.120, 0)]},
        "bare": {"create": [cpu.Sample(1000, 0.060, 0), cpu.Sample(1000, 0.060, 0), cpu.Sample(1000, 0.061, 0)]},
    }
    assert cpu.report(samples, args)
    out = capsys.readouterr().out
    assert "120.0" in out and "50 %" in out  # median 120 µs against 60 µs


def test_cpu_refuses_a_state_twin_without_the_create() -> None:
    from bench import cpu

    with pytest.raises(SystemExit):
        cpu.parse_args(["--servers", "twin-state", "--requests", "get"])


def test_cpu_report_compares_the_twin_with_another_revisions(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import cpu

    args = cpu.parse_args(["--servers", "twin", "--requests", "create", "--rounds", "1", "--against", "main"])
    samples = {"twin": {"create": [cpu.Sample(1000, 0.150, 0)]},
               "twin@main": {"create": [cpu.Sample(1000, 0.200, 0)]}}
    assert cpu.report(samples, args)
    out = capsys.readouterr().out
    assert "twin@main" in out and "+25.0 % less CPU per request" in out  # 150 µs against 200 µs


def test_cpu_checks_another_revision_out_and_removes_it_afterwards() -> None:
    import subprocess

    from bench import cpu, tools

    with cpu.checkout("HEAD") as tree:
        assert (tree / "mockserver" / "engine.py").is_file()
        listed = subprocess.run(["git", "-C", str(tools.ROOT), "worktree", "list"], capture_output=True, text=True).stdout
        assert str(tree) in listed
    assert not tree.exists()
    listed = subprocess.run(["git", "-C", str(tools.ROOT), "worktree", "list"], capture_output=True, text=True).stdout
    assert str(tree) not in listed


def test_compare_report_states_issue_16s_create_target_by_requests_and_by_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import compare, wrk

    def run(rps: float, cpu_us: float, p99: float = 5.0) -> wrk.Result:
        return wrk.Result(requests_per_sec=rps, p50_ms=1.0, p99_ms=p99, requests=10_000, errors=0, raw="",
                          seconds=10.0, server_cpu=cpu_us * 10_000 / 1e6)

    results = {
        "twin": {"get": run(12_000, 80), "list": run(10_000, 90), "create": run(7_000, 120)},
        "twin-state": {"create": run(6_400, 130)},
        "bare": {"get": run(18_000, 50), "list": run(16_000, 55), "create": run(14_000, 60)},
        "prism": {"get": run(1_500, 600), "list": run(1_300, 700), "create": run(1_500, 650)},
    }
    extra = {"date": "2026-12-02 11:00 UTC", "machine": "test", "warmup": {}, "busy": 0.0, "loadavg_before": 0.1,
             "loadavg_after": 0.2, "body_bytes": {}}
    gate, _, clean = compare.report(results, extra, compare.parse_args([]))
    out = capsys.readouterr().out
    assert gate and clean
    # 7 000 of 14 000 req/s; 60 µs against 120 µs of CPU: both 50 %, short of 55 %.
    assert "[not yet] POST create: twin ≥ 55% of the bare aiohttp ceiling" in out
    assert "measured 50% of its req/s, 50% by CPU time" in out
    assert "[met] POST create with a state file: twin ≥ 4× Prism req/s" in out  # 6 400 / 1 500 = 4.27×
