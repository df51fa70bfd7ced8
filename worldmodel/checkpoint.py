"""Checkpoints: the shipped inference file and the training state, both validated on load.

An inference checkpoint is a ``torch.save`` dict::

    {"format": "anchorworld-worldmodel", "format_version": 1, "config": ModelConfig as dict,
     "state_dict": EMA weights (float32), "meta": {...training summary...}}

The model version is a hash of the config and the weights, so a cache keyed by it can never mix
outputs of two different models. Any problem (not a torch file, wrong format, missing or extra
tensor, wrong shape, non-finite value) raises ``InputError`` naming the file and the field.
Writes are atomic (temp file, fsync, rename).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import torch

from engine.errors import InputError
from engine.files import atomic_write as atomic_write_bytes
from worldmodel.model import ModelConfig, WorldModel

FORMAT = "anchorworld-worldmodel"
FORMAT_VERSION = 1
SHIPPED = Path(__file__).resolve().parent / "checkpoints" / "worldmodel.pt"


def torch_save_atomic(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` ``obj`` to ``path`` atomically."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue(), make_parents=True)


def model_version(config: dict, state_dict: dict[str, torch.Tensor]) -> str:
    """``wm-`` + 12 hex digits of a hash over the config and every weight's bytes (sorted by name)."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return "wm-" + h.hexdigest()[:12]


def save_inference(path: str | os.PathLike, model: WorldModel, meta: dict | None = None) -> str:
    """Write an inference checkpoint of ``model``'s weights; returns the model version."""
    sd = {k: v.detach().cpu().float().clone() for k, v in model.state_dict().items()}
    cfg = model.cfg.to_dict()
    torch_save_atomic({"format": FORMAT, "format_version": FORMAT_VERSION, "config": cfg, "state_dict": sd,
                       "meta": meta or {}}, path)
    return model_version(cfg, sd)


def load_inference(path: str | os.PathLike | None = None) -> tuple[WorldModel, str, dict]:
    """Load and validate an inference checkpoint: (model in eval mode on CPU, version, meta)."""
    path = Path(path) if path is not None else SHIPPED
    src = str(path)
    if not path.is_file():
        raise InputError(src, "", "a world-model checkpoint file (not found)")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a corrupt file
        raise InputError(src, "", f"a torch checkpoint readable by torch.load ({type(exc).__name__})") from None
    if not isinstance(ck, dict):
        raise InputError(src, "", "a dict at the top level")
    if ck.get("format") != FORMAT:
        raise InputError(src, "format", f"{FORMAT!r}, got {ck.get('format')!r}")
    if ck.get("format_version") != FORMAT_VERSION:
        raise InputError(src, "format_version", f"{FORMAT_VERSION}, got {ck.get('format_version')!r}")
    if not isinstance(ck.get("config"), dict):
        raise InputError(src, "config", "a dict of ModelConfig fields")
    try:
        cfg = ModelConfig.from_dict(ck["config"])
        model = WorldModel(cfg)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(src, "config", f"valid ModelConfig fields ({exc})") from None
    sd = ck.get("state_dict")
    if not isinstance(sd, dict):
        raise InputError(src, "state_dict", "a dict of tensors")
    want = model.state_dict()
    for name, ref in want.items():
        if name not in sd:
            raise InputError(src, f"state_dict.{name}", f"a tensor of shape {tuple(ref.shape)} (missing)")
        t = sd[name]
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(ref.shape):
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise InputError(src, f"state_dict.{name}", f"a tensor of shape {tuple(ref.shape)}, got {got}")
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise InputError(src, f"state_dict.{name}", "finite values")
    extra = sorted(set(sd) - set(want))
    if extra:
        raise InputError(src, f"state_dict.{extra[0]}", "no such tensor in this model (config mismatch)")
    model.load_state_dict({k: sd[k].float() for k in want})
    model.eval()
    return model, model_version(ck["config"], {k: sd[k] for k in want}), dict(ck.get("meta") or {})
