"""lanterna's benchmarks: each claim of speed or frugality as a number measured side by side.

Run them all from a source checkout with ``lanterna bench`` (or ``python -m bench``); the report
goes to docs/benchmarks.md. Each module also runs alone (``python -m bench.lifecycle --help``).

Every benchmark module exposes ``async def run(config: BenchConfig) -> BenchSection`` (see
``bench.report``): it reads the knobs it needs from the shared config, reports, and never asserts.
"""
