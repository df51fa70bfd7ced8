"""Window tests need a display (run under ``xvfb-run``); editor settings go to a temp folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _editor_config(tmp_path, monkeypatch):
    monkeypatch.setenv("ANCHORWORLD_CONFIG_DIR", str(tmp_path / "config"))

