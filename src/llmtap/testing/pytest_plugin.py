"""pytest fixtures: ``pytest_plugins = ["llmtap.testing.pytest_plugin"]`` in your conftest.py.

``emulator`` is one server for the whole run, cleared (requests and script) before each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .emulator import Emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    emulator_server.clear()
    return emulator_server
