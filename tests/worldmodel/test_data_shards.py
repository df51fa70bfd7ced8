"""Teacher datasets: round trip, resume, bad directories and files, CLI argument errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from engine.errors import InputError
from worldmodel.data import Dataset, add_data_arguments, run_data, shard_specs, write_dataset
from worldmodel.teacher import Teacher, split_of

pytestmark = pytest.mark.gl


@pytest.fixture(scope="module")
def teacher() -> Teacher:
    return Teacher(size=(24, 24))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, teacher: Teacher) -> Path:
    out = tmp_path_factory.mktemp("ds") / "heldout"
    write_dataset(out, 5, views=2, size=24, seed=3, split="heldout", shard_size=2, progress=False, teacher=teacher)
    return out


def test_round_trip_gives_back_specs_cameras_and_images(dataset: Path, teacher: Teacher) -> None:
    ds = Dataset(dataset)
    assert len(ds) == 5 and ds.num_shards == 3 and ds.views == 2 and ds.size == 24
    samples = list(ds)
    expected = shard_specs(ds.config, 1, 2)
    s = samples[2]
    assert s.spec == expected[0][0]
    assert split_of(s.spec) == "heldout"
    assert np.allclose(s.cameras[1].eye, expected[0][1][1].eye)
    again = teacher.render(s.spec, s.cameras)
    assert s.rgb.shape == (2, 24, 24, 3) and s.rgb.dtype == np.float32
    assert np.allclose(s.rgb, again["rgb"], atol=2e-3)
    assert np.allclose(s.alpha, again["alpha"], atol=1e-3)
    assert np.array_equal(s.depth, again["depth"])
    assert ds[-1].spec == samples[4].spec
    with pytest.raises(IndexError):
        ds[5]


def test_rerun_resumes_without_rewriting(dataset: Path, teacher: Teacher) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in dataset.glob("shard-*.npz")}
    write_dataset(dataset, 5, views=2, size=24, seed=3, split="heldout", shard_size=2, progress=False,
                  teacher=teacher)
    after = {p.name: p.stat().st_mtime_ns for p in dataset.glob("shard-*.npz")}
    assert before == after
    grown = tmp_copy = dataset.parent / "grown"
    grown.mkdir()
    for p in dataset.iterdir():
        (tmp_copy / p.name).write_bytes(p.read_bytes())
    m = write_dataset(grown, 7, views=2, size=24, seed=3, split="heldout", shard_size=2, progress=False,
                      teacher=teacher)
    assert m["count"] == 7 and len(Dataset(grown)) == 7
    assert (grown / "shard-00000.npz").read_bytes() == (dataset / "shard-00000.npz").read_bytes()
    assert Dataset(grown)[4].spec == Dataset(dataset)[4].spec  # the partial shard was re-rendered in full
    with pytest.raises(InputError, match="views"):
        write_dataset(dataset, 5, views=3, size=24, seed=3, split="heldout", shard_size=2, progress=False,
                      teacher=teacher)


def test_bad_directories_and_files_raise_input_error(tmp_path: Path, dataset: Path) -> None:
    with pytest.raises(InputError):
        Dataset(tmp_path / "missing")
    with pytest.raises(InputError, match="manifest"):
        Dataset(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="JSON"):
        Dataset(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(InputError, match="format"):
        Dataset(tmp_path)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(InputError, match="--out"):
        write_dataset(a_file, 1, progress=False)

    broken = tmp_path / "broken"
    broken.mkdir()
    for p in dataset.iterdir():
        (broken / p.name).write_bytes(p.read_bytes())
    shard = broken / "shard-00001.npz"
    shard.write_bytes(shard.read_bytes()[:100])
    ds = Dataset(broken)
    ds[0]
    with pytest.raises(InputError, match="sha256"):
        ds[2]
    (broken / "shard-00002.npz").unlink()
    with pytest.raises(InputError, match="missing"):
        ds[4]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="anchorworld worldmodel data")
    add_data_arguments(p)
    return p


@pytest.mark.parametrize("argv", [
    [], ["--out", "x", "--count", "0"], ["--out", "x", "--views", "abc"], ["--out", "x", "--size", "4"],
    ["--out", "x", "--split", "test"], ["--out", "x", "--materials", "lava"], ["--out", "x", "--seed", "-1"],
])
def test_cli_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_cli_writes_a_readable_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["--out", str(tmp_path / "d"), "--count", "2", "--views", "1", "--size", "16",
                                 "--materials", "sand", "metal", "--quiet"])
    assert run_data(args) == 0
    assert "wrote 2 specs" in capsys.readouterr().out
    ds = Dataset(tmp_path / "d")
    assert {s.spec.material for s in ds} <= {"sand", "metal"}
    assert all(split_of(s.spec) == "train" for s in ds)


def test_anchorworld_dispatcher_reports_bad_data_arguments_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["worldmodel", "data", "--out", "x", "--views", "0"])
    assert exc.value.code == 2
    assert "--views" in capsys.readouterr().err


def test_anchorworld_dispatcher_reports_a_bad_out_dir_in_one_line(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main

    f = tmp_path / "file"
    f.write_text("x")
    assert main(["worldmodel", "data", "--out", str(f), "--count", "1", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err and "Traceback" not in err
