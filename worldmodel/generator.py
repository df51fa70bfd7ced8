"""`Generator`: batched, cached, deterministic inference — ProxySpec[] → GaussianSet[].

Determinism (DESIGN.md): the Gaussians of a spec are bit-identical whether it is generated alone
or in a batch of any size, with any torch thread count, on the same device type. How:

- inputs are built per entity in float64 numpy (``model.encode``), independent of the batch;
- on the CPU each entity runs through the network alone, with a fixed shape (1, N, D), and with
  torch pinned to one thread for the call (GEMM kernels may split reductions differently with
  more threads); entities are independent, so this costs no accuracy and little speed at this
  model size;
- on CUDA entities are grouped by anchor count and run in chunks of a fixed size ``CUDA_CHUNK``,
  padded with copies of the chunk's first entity, so every launch has the same shape whatever the
  batch size (cuBLAS picks its kernels from the shapes).

Outputs are cached, keyed by (model version, lod, spec.key()) where the key holds the seed, the
proxy and the quantised state — the model only ever sees the quantised state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from engine.splats.gaussians import GaussianSet
from worldmodel.anchors import LODS, anchor_count
from worldmodel.checkpoint import load_inference
from worldmodel.model import decode, encode, rgb_to_sh0
from worldmodel.spec import ProxySpec

CUDA_CHUNK = 64
_THREAD_LOCK = threading.Lock()


class Generator:
    """The world model for inference.

    ``Generator(checkpoint=None, device="cpu", cache_size=4096)``: ``checkpoint`` None loads the
    shipped ``worldmodel/checkpoints/worldmodel.pt``; a corrupt or mismatched file raises
    ``InputError`` naming the file and the field.

    Example::

        gen = Generator()
        [gs] = gen.generate([ProxySpec("box", (0.5, 0.5, 0.5), "brick", style_seed=7)])
    """

    def __init__(self, checkpoint: str | Path | None = None, device: str = "cpu", cache_size: int = 4096) -> None:
        self.model, self.version, self.meta = load_inference(checkpoint)
        self.device = torch.device(device)
        self.model.to(self.device)
        self.cfg = self.model.cfg
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[tuple, GaussianSet] = OrderedDict()

    def generate(self, specs: list[ProxySpec], lod: int = 0) -> list[GaussianSet]:
        """GaussianSets (anchor-local frame, SH degree 0) for ``specs`` at level of detail ``lod``.

        lod 0 is the closest/finest; see ``worldmodel.anchors.LODS``. Results are shared cached
        objects: treat them as read-only.
        """
        if not 0 <= lod < len(LODS):
            raise ValueError(f"lod must be in 0..{len(LODS) - 1}, got {lod}")
        out: list[GaussianSet | None] = [None] * len(specs)
        todo: dict[tuple, list[int]] = {}
        for i, s in enumerate(specs):
            if not isinstance(s, ProxySpec):
                raise TypeError(f"generate: specs[{i}] is {type(s).__name__}, expected ProxySpec")
            key = (self.version, lod, s.key())
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                out[i] = hit
            else:
                todo.setdefault(key, []).append(i)
        if todo:
            keys = list(todo)
            fresh = self._run([specs[todo[k][0]] for k in keys], lod)
            for k, gs in zip(keys, fresh, strict=True):
                for i in todo[k]:
                    out[i] = gs
                self._cache[k] = gs
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out  # type: ignore[return-value]

    def clear_cache(self) -> None:
        """Forget every cached output."""
        self._cache.clear()

    def _run(self, specs: list[ProxySpec], lod: int) -> list[GaussianSet]:
        if self.device.type == "cpu":
            with _THREAD_LOCK:
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
                try:
                    with torch.inference_mode():
                        return [self._forward([s], lod)[0] for s in specs]
                finally:
                    torch.set_num_threads(threads)
        return self._run_chunked(specs, lod)

    def _run_chunked(self, specs: list[ProxySpec], lod: int) -> list[GaussianSet]:
        """The CUDA path: fixed-size chunks of entities with equal anchor counts."""
        groups: dict[int, list[int]] = {}
        for i, s in enumerate(specs):
            groups.setdefault(anchor_count(s.shape, s.half_extents, lod), []).append(i)
        res: list[GaussianSet | None] = [None] * len(specs)
        with torch.inference_mode():
            for idx in groups.values():
                for c0 in range(0, len(idx), CUDA_CHUNK):
                    part = [specs[i] for i in idx[c0:c0 + CUDA_CHUNK]]
                    padded = part + [part[0]] * (CUDA_CHUNK - len(part))
                    for i, gs in zip(idx[c0:c0 + CUDA_CHUNK], self._forward(padded, lod)[: len(part)], strict=True):
                        res[i] = gs
        return res  # type: ignore[return-value]

    def _forward(self, specs: list[ProxySpec], lod: int) -> list[GaussianSet]:
        enc = encode(specs, lod, self.cfg, self.device)
        g = decode(self.model(enc), enc)
        arrays = {k: v.float().cpu().numpy() for k, v in g.items() if k not in ("s_min", "s_max")}
        sh = rgb_to_sh0(g["rgb"]).float().cpu().numpy()
        return [
            GaussianSet(arrays["means"][b], arrays["scales"][b], arrays["quats"][b], arrays["opacities"][b],
                        np.ascontiguousarray(sh[b]))
            for b in range(len(specs))
        ]
