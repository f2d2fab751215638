"""Performance benchmarks of the twin (not part of the test run).

- `python -m bench.compare`: the twin against Stoplight Prism, WireMock and a bare aiohttp handler,
  driven by wrk on loopback, server and load generator pinned to different cores.
- `python -m bench.scale`: list and get latency and resident memory at 10k, 100k and 1M records.
"""
