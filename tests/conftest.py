"""Shared fixtures live in tests/fixtures/, one module per layer."""

pytest_plugins = [
    "tests.fixtures.engine",
    "tests.fixtures.server",
    "tests.fixtures.demo",
    "tests.fixtures.sdk",
    "tests.fixtures.llm",
]
