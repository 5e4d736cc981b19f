"""Web processes ask PostgreSQL for no parallel query workers (wsgi.py/asgi.py set
``DATABASE_PG_OPTIONS``, which the settings pass to every connection): a count spread over
three processes costs the small machine three times the CPU of one."""

import importlib
import os

import pytest


@pytest.mark.parametrize("module", ["kravia_web.wsgi", "kravia_web.asgi"])
def test_web_entry_points_turn_parallel_workers_off(monkeypatch, module):
    monkeypatch.setenv("DATABASE_PG_OPTIONS", "")  # restored (unset) after the test
    monkeypatch.delenv("DATABASE_PG_OPTIONS")
    importlib.reload(importlib.import_module(module))
    assert os.environ["DATABASE_PG_OPTIONS"] == "-c max_parallel_workers_per_gather=0"


def test_an_operator_setting_wins(monkeypatch):
    monkeypatch.setenv("DATABASE_PG_OPTIONS", "-c work_mem=8MB")
    importlib.reload(importlib.import_module("kravia_web.wsgi"))
    assert os.environ["DATABASE_PG_OPTIONS"] == "-c work_mem=8MB"
