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
    p.add_argument("--check", action="store_true", help="also check batch-vs-alone determinism on each device")


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
    """Yield one row per (device, batch size) and one wire-size row."""
    import numpy as np
    import torch

    from worldmodel import Generator

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.devices == "auto" else \
        args.devices.split(",")
    gauss_counts = []
    for dev in devices:
        gen = Generator(args.checkpoint, device=dev)
        gen.generate(_specs(4, 1))  # warm-up
        gpu = torch.cuda.get_device_name(0) if dev.startswith("cuda") else None
        if args.check:  # determinism on this device: a batch of 64 vs the same specs one at a time
            specs = _specs(64, 7)
            gen.clear_cache()
            batch = gen.generate(specs)
            gen.clear_cache()
            alone = [gen.generate([s])[0] for s in specs[:16]]
            yield {"area": "worldmodel", "device": dev, "gpu": gpu, "deterministic_batch_vs_alone":
                   all(a.equals(x) for a, x in zip(alone, batch, strict=False))}
        for b in (int(x) for x in args.batches.split(",")):
            per = []
            reps = args.repeats if b <= 32 else max(2, args.repeats // 2)
            for r in range(reps):
                specs = _specs(b, 1000 + 10 * b + r)
                gen.clear_cache()
                if dev == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                out = gen.generate(specs)
                if dev == "cuda":
                    torch.cuda.synchronize()
                per.append((time.perf_counter() - t0) * 1e3)
                gauss_counts += [len(g) for g in out]
            per_ent = np.array(per) / b
            yield {"area": "worldmodel", "device": dev, "batch": b, "repeats": reps, "gpu": gpu,
                   "ms_per_entity_p50": round(float(np.percentile(per_ent, 50)), 3),
                   "ms_per_entity_p95": round(float(np.percentile(per_ent, 95)), 3),
                   "ms_per_batch_p50": round(float(np.percentile(per, 50)), 3),
                   "torch_threads": torch.get_num_threads(), "model_version": gen.version}
    try:
        from engine.splats.gaussians import GaussianSet  # noqa: F401
        from engine.splats.wire import BYTES_PER_GAUSSIAN_SH0 as wire_bytes
        source = "engine.splats.wire"
    except ImportError:
        wire_bytes, source = 16, "assumed (engine.splats.wire missing)"
    yield {"area": "worldmodel", "wire_bytes_per_gaussian": wire_bytes, "wire_source": source,
           "gaussians_per_entity_mean": round(float(np.mean(gauss_counts)), 1)}
