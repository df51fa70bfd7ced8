"""Corrupt or mismatched checkpoints give an InputError naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.errors import InputError
from worldmodel import Generator
from worldmodel.checkpoint import SHIPPED, load_inference, torch_save_atomic


def _shipped() -> dict:
    return torch.load(SHIPPED, map_location="cpu", weights_only=True)


def _expect(path: Path, field: str) -> InputError:
    with pytest.raises(InputError) as ei:
        Generator(path)
    assert ei.value.source == str(path) and ei.value.field == field
    assert str(path) in str(ei.value)
    return ei.value


def test_shipped_checkpoint_loads_and_is_small() -> None:
    model, version, _ = load_inference()
    assert version.startswith("wm-")
    assert SHIPPED.stat().st_size <= 16 * 1024 * 1024


def test_garbage_and_truncated_files(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"not a checkpoint at all")
    _expect(bad, "")
    cut = tmp_path / "truncated.pt"
    cut.write_bytes(SHIPPED.read_bytes()[:5000])
    _expect(cut, "")
    _expect(tmp_path / "missing.pt", "")


def test_mismatched_contents(tmp_path: Path) -> None:
    ck = _shipped()
    p = tmp_path / "c.pt"
    torch_save_atomic({**ck, "format": "something-else"}, p)
    _expect(p, "format")
    torch_save_atomic({**ck, "format_version": 99}, p)
    _expect(p, "format_version")
    torch_save_atomic({**ck, "config": {**ck["config"], "d_model": 48}}, p)
    err = _expect(p, "state_dict.embed.weight")  # the first tensor whose shape follows d_model
    assert "shape" in err.expected
    sd = dict(ck["state_dict"])
    name = sorted(sd)[3]
    del sd[name]
    torch_save_atomic({**ck, "state_dict": sd}, p)
    _expect(p, f"state_dict.{name}")
    sd = dict(ck["state_dict"])
    sd["head.bias"] = sd["head.bias"] * float("nan")
    torch_save_atomic({**ck, "state_dict": sd}, p)
    _expect(p, "state_dict.head.bias")
    torch_save_atomic({**ck, "config": {**ck["config"], "no_such_setting": 1}}, p)
    _expect(p, "config")


def test_cli_reports_a_bad_checkpoint_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 64)
    code = main(["worldmodel", "eval", "--quick", "--json", "--checkpoint", str(bad), "--materials", "brick"])
    err = capsys.readouterr().err
    assert code == 1 and str(bad) in err and "Traceback" not in err
