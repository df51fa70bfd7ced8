"""World model: per-entity generation latency (p50/p95) at batch 1, 32, 256 on CPU and CUDA, wire bytes.

Each measurement generates fresh specs (distinct seeds, so the cache never answers) with the
shipped checkpoint through ``worldmodel.Generator`` — the path the game uses.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `anchorworld bench worldmodel`."""
    p.add_argument("--repeats", type=int, default=5, help="timed batches per batch size")
    p.add_argument("--batches", default="1,32,256", help="comma-separated batch sizes")
    p.add_argument("--devices", default="auto", help="cpu,cuda or auto (cpu + cuda when present)")
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--breakdown", action="store_true",
                   help="on a GPU, also time the parts of a batch of 256: host packing, graph, eager, plain twin, "
                        "device time of one chunk per anchor count")
    p.add_argument("--check", action="store_true",
                   help="also check determinism on each device: 256 specs alone, in batches of 7 and in one batch "
                        "(and on CUDA: CUDA graphs vs eager, fast path vs its plain twin)")


def _specs(n: int, start: int) -> list:
    import numpy as np

    from engine.splats.vocab import MATERIAL_NAMES
    from worldmodel.spec import ProxySpec

    rng = np.random.default_rng(start)
    shapes = ("box", "sphere", "cylinder", "capsule", "plane", "ramp")
    return [ProxySpec(shapes[i % 6], tuple(float(v) for v in rng.uniform(0.3, 1.2, 3)), MATERIAL_NAMES[i % 12],
                      start * 100_000 + i, tuple(float(v) for v in rng.uniform(0, 1, 4) * (rng.random(4) < 0.3)))
            for i in range(n)]


def run(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Yield per device a row on how it runs (and determinism rows with ``--check``), one row per
    batch size, then one wire-size row."""
    import numpy as np
    import torch

    from worldmodel import Generator

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.devices == "auto" else \
        args.devices.split(",")
    gauss_counts = []
    for dev in devices:
        t0 = time.perf_counter()
        gen = Generator(args.checkpoint, device=dev)
        init_ms = (time.perf_counter() - t0) * 1e3
        gen.generate(_specs(4, 1))  # warm-up
        gpu = torch.cuda.get_device_name(0) if dev.startswith("cuda") else None
        info = {"device_path": gen.device_path, "init_ms": round(init_ms, 1)}
        if dev != "cpu":
            info["device_check"] = gen.device_check
        yield {"area": "worldmodel", "device": dev, "gpu": gpu, **info}
        if args.check:
            yield from _check(gen, dev, gpu, args.checkpoint)
        if args.breakdown and dev.startswith("cuda"):
            yield _breakdown(gen, dev, gpu)
        for b in (int(x) for x in args.batches.split(",")):
            per = []
            reps = args.repeats if b <= 32 else max(2, args.repeats // 2)
            for r in range(reps):
                specs = _specs(b, 1000 + 10 * b + r)
                gen.clear_cache()
                if dev.startswith("cuda"):
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                out = gen.generate(specs)
                if dev.startswith("cuda"):
                    torch.cuda.synchronize()
                per.append((time.perf_counter() - t0) * 1e3)
                gauss_counts += [len(g) for g in out]
            per_ent = np.array(per) / b
            yield {"area": "worldmodel", "device": dev, "batch": b, "repeats": reps, "gpu": gpu,
                   "ms_per_entity_p50": round(float(np.percentile(per_ent, 50)), 3),
                   "ms_per_entity_p95": round(float(np.percentile(per_ent, 95)), 3),
                   "ms_per_batch_p50": round(float(np.percentile(per, 50)), 3),
                   "ms_per_batch_p95": round(float(np.percentile(per, 95)), 3),
                   "torch_threads": torch.get_num_threads(), "model_version": gen.version,
                   "device_path": gen.device_path}
    try:
        from engine.splats.gaussians import GaussianSet  # noqa: F401
        from engine.splats.wire import BYTES_PER_GAUSSIAN_SH0 as wire_bytes
        source = "engine.splats.wire"
    except ImportError:
        wire_bytes, source = 16, "assumed (engine.splats.wire missing)"
    yield {"area": "worldmodel", "wire_bytes_per_gaussian": wire_bytes, "wire_source": source,
           "gaussians_per_entity_mean": round(float(np.mean(gauss_counts)), 1)}


def _check(gen: Any, dev: str, gpu: str | None, checkpoint: str | None) -> Iterator[dict[str, Any]]:
    """Determinism rows for one device: the same 256 specs (every shape, mixed sizes and states)
    alone, in batches of 7 and in one batch must give the same bits; on a GPU also a Generator
    without CUDA graphs (eager) and the plain twin path (``_run_chunked``, close, not bitwise)."""
    import numpy as np

    from worldmodel import Generator

    specs = _specs(256, 7)
    gen.clear_cache()
    whole = gen.generate(specs)
    gen.clear_cache()
    sevens = [g for k in range(0, len(specs), 7) for g in gen.generate(specs[k:k + 7])]
    gen.clear_cache()
    alone = [gen.generate([s])[0] for s in specs]
    gen.clear_cache()
    row = {"area": "worldmodel", "device": dev, "gpu": gpu, "check_entities": len(specs),
           "bit_identical_alone_vs_batch256": all(a.equals(w) for a, w in zip(alone, whole, strict=True)),
           "bit_identical_batch7_vs_batch256": all(a.equals(w) for a, w in zip(sevens, whole, strict=True))}
    if dev != "cpu":
        eager = Generator(checkpoint, device=dev, graphs=False)
        e_whole = eager.generate(specs)
        e_alone = [eager.generate([s])[0] for s in specs[:64]]
        row["eager_device_path"] = eager.device_path
        row["bit_identical_graph_vs_eager_batch256"] = all(a.equals(w) for a, w in zip(e_whole, whole, strict=True))
        row["bit_identical_graph_vs_eager_alone64"] = all(a.equals(w) for a, w in zip(e_alone, alone, strict=False))
        plain = gen._run_chunked(specs, 0)
        row["bit_identical_to_plain_twin"] = sum(a.equals(w) for a, w in zip(plain, whole, strict=True))
        row["max_abs_diff_to_plain_twin"] = max(
            float(np.abs(getattr(a, f) - getattr(w, f)).max())
            for a, w in zip(plain, whole, strict=True) for f in ("means", "scales", "quats", "opacities", "sh"))
    yield row


def _breakdown(gen: Any, dev: str, gpu: str | None) -> dict[str, Any]:
    """Milliseconds (median of 5) of the parts of one fresh batch of 256 on a GPU."""
    import numpy as np
    import torch

    from worldmodel.device_inputs import entity_params

    parts: dict[str, list[float]] = {"host_params": [], "graph": [], "eager": [], "plain_twin": []}
    for r in range(5):
        specs = _specs(256, 5000 + r)
        chunks = gen._groups(specs, 0, 64)
        t0 = time.perf_counter()
        for idx in chunks:
            entity_params([specs[i] for i in idx], 0, gen.cfg)
        parts["host_params"].append(time.perf_counter() - t0)
        for name, fn in (("graph", lambda s: gen._run_device(s, 0, graphs=gen.device_path == "graph")),
                         ("eager", lambda s: gen._run_device(s, 0, graphs=False)),
                         ("plain_twin", lambda s: gen._run_chunked(s, 0))):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn(specs)
            torch.cuda.synchronize()
            parts[name].append(time.perf_counter() - t0)
    row = {"area": "worldmodel", "device": dev, "gpu": gpu, "breakdown_batch": 256, "chunks": len(chunks),
           **{f"{k}_ms": round(float(np.median(v)) * 1e3, 3) for k, v in parts.items()}}
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for (n, lod), graph in sorted(gen._graphs.items()):
        if lod == 0:
            start.record()
            for _ in range(20):
                graph.graph.replay()
            end.record()
            torch.cuda.synchronize()
            row[f"device_ms_per_chunk_n{n}"] = round(start.elapsed_time(end) / 20, 3)
    return row
