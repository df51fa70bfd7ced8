"""Teacher datasets on disk: the writer behind ``anchorworld worldmodel data`` and the ``Dataset`` reader.

Layout of a dataset directory::

    manifest.json            format, version, config (split, views, size, seed, materials, ...),
                             teacher version, held-out rule, shards [{file, count, sha256}], count
    shard-00000.npz ...      one compressed npz per shard of ``shard_size`` specs:
        shape, material      (K,) str            style_seed (K,) int64
        half_extents         (K, 3) float64      state      (K, 4) float64 (STATES order)
        eye, target          (K, V, 3) float64   fov_y      (K, V) float64
        rgb                  (K, V, H, W, 3) float16, linear over black (premultiplied)
        alpha                (K, V, H, W) float16   depth (K, V, H, W) float32 view z, 0 = empty

Every file is written atomically (temp file, fsync, rename) and the manifest is rewritten after
each shard, so an interrupted run resumes where it stopped when started again with the same
arguments. Shard ``i`` is a pure function of (seed, split, i, materials): specs and cameras come
from ``numpy.random.default_rng([seed, split index, i])``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import InputError
from engine.files import atomic_write
from engine.render.camera import Camera
from engine.splats.vocab import MATERIAL_NAMES, SHAPES, STATES

FORMAT = "anchorworld-teacher-dataset"
VERSION = 1
TEACHER_VERSION = "teacher-1"
MANIFEST = "manifest.json"
SPLITS = ("train", "heldout")
_ARRAYS = ("shape", "material", "style_seed", "half_extents", "state", "eye", "target", "fov_y", "rgb", "alpha",
           "depth")


@dataclass
class Sample:
    """One spec with its views: rgb (V,H,W,3) f32, alpha (V,H,W) f32, depth (V,H,W) f32 metres."""

    spec: Any  # worldmodel.spec.ProxySpec
    cameras: list[Camera]
    rgb: np.ndarray
    alpha: np.ndarray
    depth: np.ndarray


# -- writing ------------------------------------------------------------------------------------


def _atomic_write(path: Path, write: Any) -> None:
    """``write(file)`` into memory, then replace ``path`` atomically (engine.files.atomic_write)."""
    buf = io.BytesIO()
    write(buf)
    atomic_write(path, buf.getvalue())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def shard_specs(config: dict[str, Any], index: int, count: int) -> list[tuple[Any, list[Camera]]]:
    """The (spec, cameras) pairs of shard ``index``: a pure function of the config and the index."""
    from worldmodel.teacher import sample_cameras, sample_spec

    rng = np.random.default_rng([int(config["seed"]), SPLITS.index(config["split"]), index])
    size = (int(config["size"]), int(config["size"]))
    out = []
    for _ in range(count):
        spec = sample_spec(rng, materials=config["materials"], split=config["split"])
        out.append((spec, sample_cameras(spec, int(config["views"]), rng, size=size)))
    return out


def _render_shard(teacher: Any, pairs: list[tuple[Any, list[Camera]]], progress: Any) -> dict[str, np.ndarray]:
    cols: dict[str, list[Any]] = {k: [] for k in _ARRAYS}
    for spec, cams in pairs:
        img = teacher.render(spec, cams)
        cols["shape"].append(spec.shape)
        cols["material"].append(spec.material)
        cols["style_seed"].append(spec.style_seed)
        cols["half_extents"].append(spec.half_extents)
        cols["state"].append(spec.state)
        cols["eye"].append([c.eye for c in cams])
        cols["target"].append([c.target for c in cams])
        cols["fov_y"].append([c.fov_y for c in cams])
        cols["rgb"].append(img["rgb"].astype(np.float16))
        cols["alpha"].append(img["alpha"].astype(np.float16))
        cols["depth"].append(img["depth"].astype(np.float32))
        if progress is not None:
            progress.update(1)
    arrays = {k: np.asarray(v) for k, v in cols.items()}
    arrays["style_seed"] = arrays["style_seed"].astype(np.int64)
    return arrays


def write_dataset(out: str | Path, count: int, views: int = 8, size: int = 128, seed: int = 0,
                  split: str = "train", materials: list[str] | None = None, shard_size: int = 64,
                  supersample: int = 2, progress: bool = True, teacher: Any = None) -> dict[str, Any]:
    """Render ``count`` specs × ``views`` views into ``out``; returns the manifest.

    Resumes an interrupted run with the same config (``count`` may differ: finished shards are
    kept, missing ones rendered); a directory holding a different dataset or stray shards raises
    ``InputError``.
    """
    out = Path(out)
    config = {
        "split": split, "views": int(views), "size": int(size), "seed": int(seed),
        "materials": sorted(set(materials)) if materials else list(MATERIAL_NAMES),
        "shard_size": int(shard_size), "supersample": int(supersample), "count": int(count),
    }
    _check_config(config, str(out))
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "--out", "a directory (or a path to create), not a file")
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    done: dict[str, dict[str, Any]] = {}
    if manifest_path.exists():
        old = _read_manifest(out)
        # --count may grow or shrink (shards are a pure function of their index); the rest must match.
        differ = sorted(k for k in config if k != "count" and old["config"].get(k) != config[k])
        if differ:
            was = ", ".join(f"{k}={old['config'].get(k)!r}" for k in differ)
            raise InputError(str(manifest_path), "config",
                             f"the same arguments as the existing dataset ({was}); use a new --out")
        for sh in old["shards"]:
            if (out / sh["file"]).exists():
                done[sh["file"]] = sh
    elif any(p.name.startswith("shard-") for p in out.iterdir()):
        raise InputError(str(out), "--out", "an empty directory or a dataset directory with manifest.json")

    if teacher is None:
        from worldmodel.teacher import Teacher

        teacher = Teacher(size=(size, size), supersample=supersample)
    elif tuple(teacher.size) != (size, size) or teacher.supersample != supersample:
        raise ValueError(f"write_dataset: teacher renders {teacher.size} x{teacher.supersample}, "
                         f"the dataset wants ({size}, {size}) x{supersample}")
    from tqdm import tqdm

    n_shards = (count + shard_size - 1) // shard_size
    manifest = {"format": FORMAT, "version": VERSION, "teacher": TEACHER_VERSION, "config": config,
                "heldout_rule": _heldout_rule(), "shards": [], "count": 0}
    bar = tqdm(total=count, unit="spec", desc=f"teacher {split}", disable=not progress)
    try:
        for i in range(n_shards):
            k = min(shard_size, count - i * shard_size)
            name = f"shard-{i:05d}.npz"
            if name in done and done[name]["count"] == k:
                manifest["shards"].append(done[name])
                bar.update(k)
            else:
                arrays = _render_shard(teacher, shard_specs(config, i, k), bar)
                _atomic_write(out / name, lambda f, a=arrays: np.savez_compressed(f, **a))
                manifest["shards"].append({"file": name, "count": k, "sha256": _sha256(out / name)})
            manifest["count"] = sum(s["count"] for s in manifest["shards"])
            text = json.dumps(manifest, indent=1).encode()
            _atomic_write(manifest_path, lambda f, t=text: f.write(t))
    finally:
        bar.close()
    return manifest


def _heldout_rule() -> str:
    from worldmodel.teacher import sampling

    return " ".join((sampling.__doc__ or "").split("\n\n")[1].split())


def _check_config(config: dict[str, Any], source: str) -> None:
    def bad(field: str, expected: str) -> InputError:
        return InputError(source, f"config.{field}", expected)

    if config.get("split") not in SPLITS:
        raise bad("split", f"one of {', '.join(SPLITS)}")
    for key, lo, hi in (("views", 1, 256), ("size", 8, 1024), ("shard_size", 1, 100000), ("supersample", 1, 4),
                        ("count", 1, 10_000_000)):
        v = config.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise bad(key, f"an integer in [{lo}, {hi}], got {v!r}")
    if not isinstance(config.get("seed"), int) or config["seed"] < 0:
        raise bad("seed", "an integer >= 0")
    mats = config.get("materials")
    if not isinstance(mats, list) or not mats or any(m not in MATERIAL_NAMES for m in mats):
        raise bad("materials", f"a non-empty list of tags from {', '.join(MATERIAL_NAMES)}")


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not root.is_dir():
        raise InputError(str(root), "", "a dataset directory (written by `anchorworld worldmodel data`)")
    if not path.is_file():
        raise InputError(str(path), "", "a manifest.json (this is not a dataset directory)")
    try:
        m = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(str(path), "", f"valid JSON ({exc})") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise InputError(str(path), "format", f"{FORMAT!r}")
    if m.get("version") != VERSION:
        raise InputError(str(path), "version", f"{VERSION}, got {m.get('version')!r}")
    if not isinstance(m.get("config"), dict):
        raise InputError(str(path), "config", "an object")
    _check_config(m["config"], str(path))
    shards = m.get("shards")
    if not isinstance(shards, list):
        raise InputError(str(path), "shards", "a list")
    for i, sh in enumerate(shards):
        if not (isinstance(sh, dict) and isinstance(sh.get("file"), str) and isinstance(sh.get("count"), int)
                and sh["count"] > 0 and isinstance(sh.get("sha256"), str)
                and Path(sh["file"]).name == sh["file"]):
            raise InputError(str(path), f"shards[{i}]", "{file: name in the directory, count: int > 0, sha256}")
    return m


# -- reading ------------------------------------------------------------------------------------


class Dataset:
    """A teacher dataset on disk: ``len(ds)`` specs, ``ds[i]`` → ``Sample``, iteration in order.

    Shards are loaded on demand (one cached) and checked against their manifest sha256 on first
    load; ``shard(j)`` returns a whole shard's arrays for batched loading.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest = _read_manifest(self.root)
        self.config: dict[str, Any] = self.manifest["config"]
        self.views = int(self.config["views"])
        self.size = int(self.config["size"])
        self._starts = np.cumsum([0] + [s["count"] for s in self.manifest["shards"]])
        self._cache: tuple[int, dict[str, np.ndarray]] | None = None
        self._verified: set[int] = set()

    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def num_shards(self) -> int:
        return len(self.manifest["shards"])

    def shard(self, j: int) -> dict[str, np.ndarray]:
        """All arrays of shard ``j`` (see the module docstring for names and shapes)."""
        if self._cache is not None and self._cache[0] == j:
            return self._cache[1]
        entry = self.manifest["shards"][j]
        path = self.root / entry["file"]
        if not path.is_file():
            raise InputError(str(path), "", "a shard file listed in manifest.json (it is missing)")
        if j not in self._verified and _sha256(path) != entry["sha256"]:
            raise InputError(str(path), "sha256", "the checksum in manifest.json (the file is corrupt or changed)")
        self._verified.add(j)
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in _ARRAYS}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise InputError(str(path), "", f"a readable shard with arrays {', '.join(_ARRAYS)} ({exc})") from None
        k, v, s = entry["count"], self.views, self.size
        expect = {"rgb": (k, v, s, s, 3), "alpha": (k, v, s, s), "depth": (k, v, s, s), "eye": (k, v, 3),
                  "state": (k, len(STATES)), "half_extents": (k, 3)}
        for name, shp in expect.items():
            if arrays[name].shape != shp:
                raise InputError(str(path), name, f"shape {shp}, got {arrays[name].shape}")
        self._cache = (j, arrays)
        return arrays

    def __getitem__(self, i: int) -> Sample:
        from worldmodel.spec import ProxySpec

        if not -len(self) <= i < len(self):
            raise IndexError(f"dataset index {i} out of range for {len(self)} specs")
        i %= len(self)
        j = int(np.searchsorted(self._starts, i, side="right") - 1)
        a = self.shard(j)
        r = i - int(self._starts[j])
        shape = str(a["shape"][r])
        if shape not in SHAPES:
            raise InputError(str(self.root / self.manifest["shards"][j]["file"]), f"shape[{r}]", "a proxy shape")
        spec = ProxySpec(shape, tuple(float(x) for x in a["half_extents"][r]), str(a["material"][r]),
                         int(a["style_seed"][r]), tuple(float(x) for x in a["state"][r]))
        cams = [Camera(a["eye"][r, q], a["target"][r, q], self.size, self.size, fov_y=float(a["fov_y"][r, q]))
                for q in range(self.views)]
        return Sample(spec, cams, a["rgb"][r].astype(np.float32), a["alpha"][r].astype(np.float32),
                      a["depth"][r].astype(np.float32))

    def __iter__(self) -> Iterator[Sample]:
        for i in range(len(self)):
            yield self[i]


# -- command line -------------------------------------------------------------------------------


def _int_in(lo: int, hi: int) -> Any:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"expected an integer in [{lo}, {hi}], got {v}")
        return v

    return parse


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``anchorworld worldmodel data``."""
    parser.add_argument("--out", required=True, help="dataset directory (created; an interrupted run resumes)")
    parser.add_argument("--count", type=_int_in(1, 10_000_000), default=256, help="number of specs (default 256)")
    parser.add_argument("--views", type=_int_in(1, 256), default=8, help="camera views per spec (default 8)")
    parser.add_argument("--size", type=_int_in(8, 1024), default=128, help="image size in pixels (default 128)")
    parser.add_argument("--seed", type=_int_in(0, 2**32 - 1), default=0, help="dataset seed (default 0)")
    parser.add_argument("--split", choices=SPLITS, default="train",
                        help="train: style seeds < 1e6 and train size/state bands; heldout: the disjoint rest")
    parser.add_argument("--materials", nargs="+", choices=MATERIAL_NAMES, metavar="TAG",
                        help=f"materials to draw (default all: {', '.join(MATERIAL_NAMES)})")
    parser.add_argument("--shard-size", type=_int_in(1, 100000), default=64, help="specs per shard (default 64)")
    parser.add_argument("--supersample", type=_int_in(1, 4), default=2, help="samples per pixel per axis (default 2)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_data(args: argparse.Namespace) -> int:
    """Write the dataset described by ``args``; prints a one-line summary. Returns 0."""
    m = write_dataset(args.out, args.count, views=args.views, size=args.size, seed=args.seed, split=args.split,
                      materials=args.materials, shard_size=args.shard_size, supersample=args.supersample,
                      progress=not args.quiet)
    print(f"wrote {m['count']} specs x {args.views} views ({len(m['shards'])} shards) to {args.out}")
    return 0
