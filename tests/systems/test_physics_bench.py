"""`anchorworld bench physics` runs on a small scene and reports the agreed keys (no timing asserts)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_physics_json_has_tick_rapier_and_ratio():
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "bench", "physics", "--json", "--dynamic", "30", "--static", "100",
         "--ticks", "10", "--warmup", "2"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    rows = [json.loads(line) for line in out.stdout.strip().splitlines()]
    row = rows[0]
    assert rows[1]["case"] == "churn" and rows[1]["reconcile_ms"] > 0
    for key in ("tick_ms", "rapier_ms", "ratio", "physics_stage_ms", "awake_median"):
        assert key in row
    assert row["dynamic"] == 30 and row["static"] == 100
    assert row["tick_ms"] >= row["rapier_ms"] > 0
    assert row["ratio"] >= 1.0


def test_bench_physics_rejects_an_empty_scene():
    out = subprocess.run([sys.executable, "-m", "engine.cli", "bench", "physics", "--dynamic", "0"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "--dynamic" in out.stderr and "Traceback" not in out.stderr
