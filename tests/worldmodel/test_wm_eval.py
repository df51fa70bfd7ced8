"""`anchorworld worldmodel eval --quick --json` on one material with the shipped checkpoint."""

from __future__ import annotations

import json

import pytest


def test_quick_eval_one_material(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    assert main(["worldmodel", "eval", "--quick", "--json", "--materials", "water"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    mat, summary = rows
    for key in ("material", "psnr_model", "psnr_floor", "psnr_ceiling", "ssim_model", "smoothness_psnr",
                "diversity_psnr", "violations"):
        assert key in mat
    assert mat["material"] == "water" and mat["violations"] == 0
    assert mat["psnr_model"] > mat["psnr_floor"]  # the trained model beats the flat proxy
    assert mat["ceiling_source"] == "stored"
    assert summary["summary"] is True and summary["deterministic"] is True


def test_eval_rejects_unknown_material(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    assert main(["worldmodel", "eval", "--quick", "--materials", "lava"]) == 1
    assert "--materials" in capsys.readouterr().err
