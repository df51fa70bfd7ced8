"""`Generator`: batched, cached, deterministic inference — ProxySpec[] → GaussianSet[].

Determinism (DESIGN.md): the Gaussians of a spec are bit-identical whether it is generated alone
or in a batch of any size, with any torch thread count, on the same device type. How:

- inputs are built in float64 numpy (``model.encode``), vectorised over a chunk of entities with
  equal anchor counts but elementwise identical to the one-entity-at-a-time reference
  (``model.encode_reference``), so they do not depend on the batch;
- on the CPU each entity runs through the network alone, with a fixed shape (1, N, D), and with
  torch pinned to one thread for the call (GEMM kernels may split reductions differently with
  more threads); entities are independent, so this costs no accuracy and little speed at this
  model size (``_run_reference`` is the plain per-entity twin, kept for the comparison test);
- on CUDA entities are grouped by anchor count and run in chunks of a fixed size ``CUDA_CHUNK``,
  padded with copies of the chunk's first entity, so every launch has the same shape whatever the
  batch size (cuBLAS picks its kernels from the shapes). Inputs go to the device in one copy per
  chunk, the Fourier features and the decode run there, and the outputs come back in one copy.

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
from worldmodel.model import Encoded, decode, encode, encode_reference, rgb_to_sh0
from worldmodel.spec import ProxySpec

CUDA_CHUNK = 64
CPU_ENCODE_CHUNK = 64  # entities encoded together on the CPU (bounded host memory)
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
                        return self._run_cpu(specs, lod)
                finally:
                    torch.set_num_threads(threads)
        return self._run_chunked(specs, lod)

    @staticmethod
    def _groups(specs: list[ProxySpec], lod: int, size: int) -> list[list[int]]:
        """Indices of ``specs`` in chunks of at most ``size`` with equal anchor counts."""
        groups: dict[int, list[int]] = {}
        for i, s in enumerate(specs):
            groups.setdefault(anchor_count(s.shape, s.half_extents, lod), []).append(i)
        return [idx[c0:c0 + size] for idx in groups.values() for c0 in range(0, len(idx), size)]

    def _run_cpu(self, specs: list[ProxySpec], lod: int) -> list[GaussianSet]:
        """CPU: encode a chunk at once, then network + decode per entity at shape (1, N, ·)."""
        res: list[GaussianSet | None] = [None] * len(specs)
        for idx in self._groups(specs, lod, CPU_ENCODE_CHUNK):
            enc = encode([specs[i] for i in idx], lod, self.cfg, self.device)
            for b, i in enumerate(idx):
                res[i] = self._decode_to_sets(_row(enc, b), 1)[0]
        return res  # type: ignore[return-value]

    def _run_reference(self, specs: list[ProxySpec], lod: int) -> list[GaussianSet]:
        """Plain twin of the CPU path: every entity encoded and run alone (the original code)."""
        with torch.inference_mode():
            return [self._decode_to_sets(encode_reference([s], lod, self.cfg, self.device), 1)[0] for s in specs]

    def _run_chunked(self, specs: list[ProxySpec], lod: int) -> list[GaussianSet]:
        """The CUDA path: fixed-size chunks of entities with equal anchor counts (runs on any device)."""
        res: list[GaussianSet | None] = [None] * len(specs)
        with torch.inference_mode():
            for idx in self._groups(specs, lod, CUDA_CHUNK):
                enc = encode([specs[i] for i in idx], lod, self.cfg, self.device, pad_to=CUDA_CHUNK, device_features=True)
                for i, gs in zip(idx, self._decode_to_sets(enc, len(idx)), strict=True):
                    res[i] = gs
        return res  # type: ignore[return-value]

    def _decode_to_sets(self, enc: Encoded, keep: int) -> list[GaussianSet]:
        """Network + decode on the model's device; the first ``keep`` entities come back in one copy."""
        g = decode(self.model(enc), enc)
        sh = rgb_to_sh0(g["rgb"]).flatten(-2)  # (B, M, 3)
        packed = torch.cat([g["means"], g["scales"], g["quats"], g["opacities"].unsqueeze(-1), sh], dim=-1)
        host = packed[:keep].float().cpu().numpy()  # (keep, M, 14)
        return [
            GaussianSet(host[b, :, 0:3], host[b, :, 3:6], host[b, :, 6:10], host[b, :, 10],
                        np.ascontiguousarray(host[b, :, 11:14])[:, None, :])
            for b in range(keep)
        ]


def _row(enc: Encoded, b: int) -> Encoded:
    """Entity ``b`` of ``enc`` as a batch of one (contiguous views, no copies)."""
    sl = slice(b, b + 1)
    return Encoded(tokens=enc.tokens[sl], cond=enc.cond[sl], material=enc.material[sl], anchors=enc.anchors[sl],
                   normals=enc.normals[sl], bound=enc.bound[sl], spacing=enc.spacing[sl], n_gauss=enc.n_gauss,
                   base_rgb=enc.base_rgb[sl], base_quat=enc.base_quat[sl])
