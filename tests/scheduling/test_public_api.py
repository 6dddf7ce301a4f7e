"""The scheduling, alerts and monitoring packages export a small, sorted, existing surface."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "package", ["callarchive.scheduling", "callarchive.alerts", "callarchive.monitoring"]
)
def test_every_exported_name_exists_and_is_public(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
    for name in module.__all__:
        assert not name.startswith("_")
        assert getattr(module, name) is not None
