"""The world-model stage: each tick's LayoutDelta in, encoded SplatDelta messages out.

    stage = WorldModelStage(world_seed=7)
    stage.consume(layout_delta)          # every tick (cheap: no model call)
    msg = stage.frame(camera_eye, fwd)   # every rendered frame: bytes or None
    msg = stage.flush(camera_eye)        # tests/screenshots: wait for every generation

What happens to each kind of change:

- ``moved``: an ``xform`` op, the model is not involved (a rolling crate costs ~70 bytes a frame).
  Read as arrays (``MovedRows.uids`` / ``.matrices()``): one vectorised T·R·S for the tick's
  moved anchors, the bounding radius recomputed only when an anchor's scale changed.
- ``spawned`` / ``restyled``: a ``proxy`` op at once (the renderer shows the flat proxy) and a
  generation request. Requests run on one worker — by default a process of its own
  (:mod:`systems.worldmodel_worker`: a model thread would share the render loop's GIL; on an
  H200 at 1080p that made input-to-visible 150-290 ms instead of 20-28 ms), or a thread
  (``worker="thread"``) — most important first: the largest
  apparent size (bounding radius / distance) wins, and anchors outside a 50° cone around the view
  direction count a quarter. A spawned anchor is generated coarse first
  (the last LOD), then refined; a restyled one keeps its old Gaussians on screen until the new
  ones arrive. A restyle of an on-screen anchor that already has Gaussians goes ahead of all other
  work, at the level of detail it has now (refinement follows), never batched with refinement
  work; among restyles, changes that came alone (an input) go before ones that restyled many
  anchors in one tick (a rain step), then oldest first. ``consume`` wakes the worker for such a
  restyle at once (not at the next frame). ``frame`` hands finished restyles to the renderer first
  and all of them, plus at most ``budget`` other finished generations, and never waits for the model.
- ``removed``: a ``remove`` op; pending work for the anchor is dropped.
- an anchor whose entity has a :class:`~engine.components.SplatCapture` (or, in levels saved by
  an older editor, a ``splat:<path>`` tag) gets its Gaussians from that file instead of the model:
  loaded once per resolved path (relative paths: next to the level file, else the working
  directory), checked against the wire limits, and sent as one ``set`` op (LOD 0 at any distance).

Level of detail is a pure function of the distance from the camera to the anchor's bounding
sphere (``lod_for``), with a hysteresis band while playing; ``flush`` brings every anchor to its
exact LOD and waits, so a frame after ``flush`` depends only on the world and the camera pose —
the persistence guarantees rest on that.

All messages are encoded with :mod:`engine.splats.wire` (quantised), and the stage keeps a
:class:`~engine.splats.wire.SplatScene` mirror of what it sent, so ``keyframe()`` serves a new
client the full state. Saves do not carry Gaussians: appearance is a pure function of the
layout, so a loaded game regenerates (or finds in the model's cache) the same ones.

As the ``worldmodel`` slot of ``systems.SLOTS`` the stage receives ``on_layout`` every tick and
installs :mod:`systems.view` into every presenter. The model runs on ``device`` ("auto": CUDA
when available).
"""

from __future__ import annotations

import heapq
import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from engine.layout import MovedRows
from engine.splats import wire
from engine.splats.wire import ProxyOp, RemoveOp, SetOp, SplatScene, XformOp
from systems.worldmodel_worker import ProcessWorker, WorkerFailure, batch_size, take_batch
from systems.worldmodel_worker import Request as _Request
from worldmodel.anchors import LODS  # numpy only (no torch)

COARSEST = len(LODS) - 1  # levels of detail: 0 (finest) .. COARSEST
LOD_DISTANCES = (6.0, 18.0)  # metres from the camera to the anchor's bounding sphere: lod 0 | 1 | 2
HYSTERESIS = 1.25  # while playing, coarsen only past distance × this (no flicker at a boundary)

WORKER_SWITCH_INTERVAL_S = 0.0005  # GIL hand-over interval while a model worker *thread* runs (see _ensure_worker)
WORKERS = ("process", "thread")  # where ``frame`` runs the model off the frame path (see WorldModelStage)


def lod_for(distance: float, distances: tuple[float, ...] = LOD_DISTANCES) -> int:
    """The level of detail for an anchor ``distance`` metres away (0 = finest)."""
    for lod, d in enumerate(distances):
        if distance < d:
            return lod
    return len(distances)


def spec_seed(world_seed: int, uid: str, style_seed: int) -> int:
    """The model's style seed of an anchor: the proxy's own ``style_seed`` (``Game`` sets it to
    ``stable_seed(world seed, uid)``), or that stable seed when the proxy leaves it 0."""
    from worldmodel.spec import stable_seed

    return int(style_seed) if style_seed else stable_seed(world_seed, uid)


def _env_choice(name: str, choices: tuple[str, ...]) -> str | None:
    """``$name`` if set (None if not); a value outside ``choices`` is an InputError naming the variable."""
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    if value not in choices:
        from engine.errors import InputError

        raise InputError(f"${name}", "", f"one of {', '.join(choices)}, got {value!r}")
    return value


def make_generator(device: str = "auto") -> Any:
    """The shipped world model, or — while no checkpoint is shipped — a seeded random-init one.

    Random init is deterministic too, so every persistence guarantee still holds; only the
    pictures are less pretty. Imported lazily: torch is not loaded until the first call.
    """
    from engine.errors import InputError
    from worldmodel.generator import Generator

    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        return Generator(device=device)
    except InputError as exc:
        from worldmodel.checkpoint import SHIPPED

        if str(SHIPPED) != exc.source or "not found" not in exc.expected:
            raise
    import tempfile
    from pathlib import Path

    import torch

    from worldmodel.checkpoint import save_inference
    from worldmodel.model import ModelConfig, WorldModel

    path = Path(tempfile.gettempdir()) / "anchorworld-random-init-v3.pt"
    if not path.exists():
        state = torch.random.get_rng_state()
        torch.manual_seed(0)
        model = WorldModel(ModelConfig())
        with torch.no_grad():  # FiLM starts as the identity and the head near 0: perturb them so states show
            for name, p in model.named_parameters():
                if ("film" in name or name.startswith("head")) and name.endswith("weight"):
                    p.normal_(0.0, 0.1)
        torch.random.set_rng_state(state)
        save_inference(path, model, {"note": "random init (no shipped checkpoint yet)"})
    return Generator(path, device=device)


CAPTURE_TAG = "splat:"  # how the editor named a capture before SplatCapture (still read)


def resolve_capture(path: str, level: Any = None) -> Path:
    """The file a SplatCapture ``path`` names: absolute as is; relative next to the ``level`` file
    when it exists there (or there is no level), else relative to the working directory."""
    p = Path(path)
    if p.is_absolute():
        return p
    if level is not None:
        beside = Path(level).parent / p
        if beside.exists() or not p.exists():
            return beside.resolve()
    return p.resolve()


def load_capture(path: Path, uid: str, level: str) -> dict[str, Any]:
    """Load a capture file and quantise it into the body of a ``set`` op (see ``wire.pack_set``).

    Raises InputError naming the file and the level entity ``uid`` when the file is missing or
    unreadable, or too large for one SplatDelta message (``wire.MAX_GAUSSIANS`` per anchor,
    ``wire.MAX_MESSAGE_BYTES`` per message).
    """
    from engine.errors import InputError
    from engine.splats import load

    where = f"SplatCapture.path of entity {uid!r} in {level}"
    if not path.is_file():
        raise InputError(str(path), where, "an existing splat capture file (.ply, .spz or .splat)")
    try:
        gs = load(path)
    except InputError as exc:
        raise InputError(str(path), where, f"a readable splat capture ({exc.field or 'file'}: {exc.expected})") from None
    except OSError as exc:
        raise InputError(str(path), where, f"a readable splat capture ({exc.strerror or exc})") from None
    n, k = len(gs), gs.sh.shape[1]
    size = n * (wire.BYTES_PER_GAUSSIAN_SH0 + 3 * (k - 1))
    if n > wire.MAX_GAUSSIANS or size > wire.MAX_MESSAGE_BYTES - (1 << 20):
        raise InputError(str(path), where, f"a capture that fits one SplatDelta message (at most "
                         f"{wire.MAX_GAUSSIANS} Gaussians and {wire.MAX_MESSAGE_BYTES >> 20} MiB quantised; "
                         f"this one has {n} Gaussians of SH degree {math.isqrt(k) - 1}, {size >> 20} MiB)")
    return wire.pack_set(gs)


_SCALE_KEY = np.dtype((np.void, 24))  # one row's scale (3 float64) as an opaque value
_XFORM_M = np.dtype((np.void, 48))  # an xform op's ``m``: rows 0..2 of the matrix as 12 little-endian float32


def xform_ops(uids: list[str], anchors: dict[str, Any]) -> list[dict[str, Any]]:
    """Packed ``xform`` ops of ``uids`` (each in ``anchors``, with a (4, 4) ``.matrix``): the same maps,
    byte for byte, as ``wire.pack_op(XformOp(uid, matrix))`` (:func:`xform_ops_reference`, its
    twin), the float32 cast of all K matrices done in one numpy pass."""
    if not uids:
        return []
    mats = np.array([anchors[u].matrix for u in uids], np.float64).reshape(len(uids), 4, 4)
    blobs = np.ascontiguousarray(mats[:, :3], "<f4").reshape(len(uids), 12).view(_XFORM_M).ravel().tolist()
    return [{"o": "xform", "a": u, "m": b} for u, b in zip(uids, blobs, strict=True)]


def xform_ops_reference(uids: list[str], anchors: dict[str, Any]) -> list[dict[str, Any]]:
    """Plain twin of :func:`xform_ops`: one ``XformOp`` packed at a time."""
    return [wire.pack_op(XformOp(u, anchors[u].matrix)) for u in uids]


@dataclass
class _Anchor:
    """What the stage knows of one anchor."""

    spec: Any  # worldmodel.spec.ProxySpec
    key: tuple  # spec.key()
    centre: np.ndarray  # (3,) world position
    radius: float  # bounding-sphere radius, metres
    matrix: np.ndarray  # (4, 4) local→world
    shown: tuple | None = None  # (key, lod) of the Gaussians the renderer has
    changed: int = 0  # consume() call that last gave it a new key
    changed_with: int = 0  # how many anchors that call changed: a lone edit beats a shower of them
    capture: dict[str, Any] | None = None  # packed ``set`` body of a SplatCapture (no model)
    scale_key: bytes = b""  # the scale ``radius`` was computed with (24 bytes; a move keeps it)


class WorldModelStage:
    """Turns LayoutDeltas into SplatDelta messages, running the world model off the frame path.

    world_seed: the level's seed (anchor style seeds derive from it and the uid).
    generator: anything with ``generate(specs, lod) -> list[GaussianSet]``; default
    :func:`make_generator` (created lazily on first use).
    budget: finished generations handed to the renderer per frame.
    threaded: run the model off the frame path, on ``worker`` (False: ``frame`` generates ``budget`` itself).
    worker: "process" (a :class:`~systems.worldmodel_worker.ProcessWorker` that owns its own
    Generator; the render loop never shares a GIL with the model) or "thread" (a thread of this
    process: no start-up cost, but it competes with the render loop for the GIL). Default
    ``$ANCHORWORLD_WORKER``, else "thread" when a ``generator`` object is given (it lives in this
    process) and "process" otherwise. Either starts at the first ``frame`` (or ``start``); until
    then ``flush`` generates in this process, after it ``flush`` goes through the worker too.
    min_lod / max_lod: the finest / coarsest level used (tests pin both to the coarsest to stay cheap).
    device: where the model runs: "cpu", "cuda" or "auto" (CUDA when torch sees a GPU); default
    ``$ANCHORWORLD_DEVICE`` or "auto". Gaussians are bit-identical per device type, so frames compare
    across runs on the same kind of machine.
    """

    def __init__(self, world_seed: int = 0, generator: Any = None, budget: int = 8, threaded: bool = True,
                 lod_distances: tuple[float, ...] = LOD_DISTANCES, max_lod: int = COARSEST, min_lod: int = 0,
                 device: str | None = None, worker: str | None = None) -> None:
        self.world_seed = int(world_seed)
        worker = worker or _env_choice("ANCHORWORLD_WORKER", WORKERS) or ("thread" if generator is not None else "process")
        if worker not in WORKERS:
            raise ValueError(f"WorldModelStage.worker: expected one of {', '.join(WORKERS)}, got {worker!r}")
        if worker == "process" and generator is not None:
            raise ValueError("WorldModelStage: a generator object lives in this process; use worker='thread' with it")
        self.worker = worker
        self._generator = generator
        self.device = device or _env_choice("ANCHORWORLD_DEVICE", ("auto", "cpu", "cuda")) or "auto"
        self.budget = int(budget)
        self.threaded = threaded
        self.lod_distances = tuple(lod_distances)
        self.max_lod = int(max_lod)
        self.min_lod = min(int(min_lod), self.max_lod)
        self.anchors: dict[str, _Anchor] = {}
        self.mirror = SplatScene("worldmodel-stage")
        self.seq = 0
        self.last_delta_bytes = 0
        self.total_bytes = 0
        self.bytes_by_op: dict[str, int] = {}  # op name -> bytes sent (proxy, set, remove, xform)
        self._ops: list[dict[str, Any]] = []  # packed set ops waiting for the next message
        self._removed: list[str] = []
        self._dirty_proxy: set[str] = set()
        self._dirty_xform: set[str] = set()
        self._heap: list[_Request] = []
        self._order = 0
        self._consumed = 0  # consume() calls so far
        self._consume_size = 0  # anchors spawned or restyled by the current one
        self._done: list[tuple[_Request, Any]] = []
        self._outstanding: set[tuple] = set()  # (uid, key, lod) running or done but not yet accepted
        self._busy = 0
        self._cv = threading.Condition()
        self._load_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._proc: ProcessWorker | None = None  # worker == "process", once started
        self._sent_queue: tuple = ()  # what the process worker was last asked for (no resend of the same)
        self._stop = False
        self._eye = np.zeros(3)
        self._resync = False  # set by load_state: the next full layout replaces what we hold
        self._forward: np.ndarray | None = None  # camera direction: things on screen go first
        self._game: Any = None  # set by attach: SplatCapture lookups and the level's folder
        self._captures: dict[str, dict[str, Any]] = {}  # resolved capture path -> packed set body
        # uid -> {event: time.perf_counter()} for the anchors being traced (the latency benchmark):
        # consumed, queued, start, done, accepted — each for the anchor's newest key only
        self.trace: dict[str, dict[str, Any]] = {}

    def _mark(self, uid: str, key: tuple, event: str, at: float | None = None) -> None:
        t = self.trace.get(uid)
        if t is not None and t.get("key") == key and event not in t:
            t[event] = time.perf_counter() if at is None else at

    # ------------------------------------------------------------------ inputs (sim thread)

    def consume(self, delta: Any) -> None:
        """Apply one tick's ``engine.layout.LayoutDelta``; only records what changed, never runs the
        model. Several ticks between two frames coalesce: one ``xform`` per moved anchor per frame."""
        if self._resync and delta.spawned:
            self._resync = False
            keep = {e.uid for e in delta.spawned} | {e.uid for e in delta.restyled}
            delta.removed = sorted(set(delta.removed) | (set(self.anchors) - keep))
        self._consumed += 1
        self._consume_size = len(delta.spawned) + len(delta.restyled)
        for uid in delta.removed:
            if self.anchors.pop(uid, None) is not None or uid in self.mirror.anchors:
                self._removed.append(uid)
            self._dirty_proxy.discard(uid)
            self._dirty_xform.discard(uid)
            self._ops = [op for op in self._ops if op["a"] != uid]
        for entry in list(delta.spawned) + list(delta.restyled):
            self._upsert(entry.uid, entry.transform, entry.proxy)
        if delta.moved:  # always MovedRows: LayoutDelta converts lists on assignment
            self._place_moved(delta.moved)
        if delta.restyled and (self._thread is not None or self._proc is not None):
            self._schedule(exact=False)  # wake the worker now, not at the next frame

    def _upsert(self, uid: str, transform: Any, proxy: Any) -> None:
        from worldmodel.spec import ProxySpec

        he = tuple(float(v) for v in proxy.half_extents)
        spec = ProxySpec.from_state_dict(proxy.shape, he, proxy.material,
                                         spec_seed(self.world_seed, uid, proxy.style_seed), proxy.state)
        found = self._capture_for(uid)
        key = ("capture", found[0]) if found is not None else spec.key()
        a = self.anchors.get(uid)
        if a is None:
            a = self.anchors[uid] = _Anchor(spec, key, np.zeros(3), 0.0, np.eye(4))
        elif a.key != key:
            a.spec, a.key = spec, key
            a.changed, a.changed_with = self._consumed, self._consume_size
        a.capture = found[1] if found is not None else None
        self._dirty_proxy.add(uid)
        self._place(uid, a, transform)
        t = self.trace.get(uid)
        if t is not None and "key" not in t:
            t["key"] = key
            self._mark(uid, key, "consumed")

    def _capture_for(self, uid: str) -> tuple[str, dict[str, Any]] | None:
        """(resolved path, packed ``set`` body) of the capture the entity ``uid`` shows, or None."""
        game = self._game
        if game is None:
            return None
        from engine.components import SplatCapture, Tags

        e = game.world.entity(uid)
        if e is None:
            return None
        cap = game.world.try_get(e, SplatCapture)
        path = cap.path if cap is not None else None
        if path is None:  # levels saved before SplatCapture existed name the file in a tag
            tags = game.world.try_get(e, Tags)
            path = next((t[len(CAPTURE_TAG):] for t in (tags.values if tags else []) if t.startswith(CAPTURE_TAG)), None)
        if path is None:
            return None
        level = getattr(game, "level_path", None)
        resolved = resolve_capture(path, level)
        body = self._captures.get(str(resolved))
        if body is None:
            body = self._captures[str(resolved)] = load_capture(resolved, uid, str(level or game.name))
        return str(resolved), body

    def _place(self, uid: str, a: _Anchor, transform: Any) -> None:
        a.matrix = transform.matrix()
        a.centre = np.asarray(a.matrix[:3, 3], np.float64)
        scale = np.asarray(transform.scale, np.float64)
        a.radius = float(np.linalg.norm(np.asarray(a.spec.half_extents) * np.abs(scale)))
        a.scale_key = scale.tobytes()
        self._dirty_xform.add(uid)

    def _place_moved(self, moved: MovedRows) -> None:
        """``_place`` for a tick's moved anchors at once (same matrices, centres and radii, bit for
        bit): the matrices come from one vectorised pass, no Transform is built."""
        uids = moved.uids
        found = list(map(self.anchors.get, uids))
        if not any(found):
            return
        rows = moved.rows
        mats = moved.matrices()
        scales = np.ascontiguousarray(rows[:, 7:10])
        keys = scales.view(_SCALE_KEY).ravel().tolist()  # (K,) 24-byte strings
        for i, (a, m, key) in enumerate(zip(found, mats, keys, strict=True)):
            if a is None:
                continue
            a.matrix = m.copy()  # a private (4, 4): never pins the tick's (K, 4, 4) block
            a.centre = a.matrix[:3, 3]
            if key != a.scale_key:
                a.radius = float(np.linalg.norm(np.asarray(a.spec.half_extents) * np.abs(scales[i])))
                a.scale_key = key
        self._dirty_xform.update(u for u, a in zip(uids, found, strict=True) if a is not None)

    # ------------------------------------------------------------------ the System protocol

    name = "worldmodel"

    def attach(self, game: Any) -> None:
        """Registered as the ``worldmodel`` slot of ``systems.SLOTS``: take the game's seed and make
        every presenter of the game draw splats (``systems.view``)."""
        self.world_seed = int(game.seed)
        self._game = game
        from systems.view import install

        install()

    def on_layout(self, delta: Any) -> None:
        """The layout stage hands every tick's delta here."""
        self.consume(delta)

    def tick(self, game: Any, dt: float) -> None:
        """Nothing per tick: the work is in ``on_layout`` (cheap) and ``frame`` (render side)."""

    def load_state(self, state: Any) -> None:
        """After a load the layout is re-published as spawned: keep what was generated (the cache),
        and drop on that first delta every anchor the loaded world does not have."""
        self._resync = True

    # ------------------------------------------------------------------ outputs (render thread)

    def frame(self, eye: Any, forward: Any = None) -> bytes | None:
        """Once per rendered frame: schedule LOD work for camera position ``eye`` (3,) (and view
        direction ``forward`` (3,): anchors on screen first), collect up to
        ``budget`` finished generations, and return one encoded message (None when nothing changed)."""
        self._eye = np.asarray(eye, np.float64).reshape(3)
        self._forward = None if forward is None else np.asarray(forward, np.float64).reshape(3)
        if self.threaded:
            self._ensure_worker()
        self._schedule(exact=False)
        if self.threaded:
            if self._proc is not None:
                self._receive(self._proc.receive())
            with self._cv:
                self._done.sort(key=lambda rg: rg[0])  # restyles first, then the largest on screen
                n = self.budget
                if n > 0:  # every finished restyle goes out now; the budget limits the rest
                    n = max(n, sum(1 for r, _ in self._done if r.rank == 0))
                ready, self._done = self._done[:n], self._done[n:]
        else:
            ready = [self._generate(r) for r in self._pop(self.budget)]
        for req, gs in ready:
            self._accept(req, gs)
        return self._emit()

    def flush(self, eye: Any, timeout: float = 600.0) -> bytes | None:
        """Bring every anchor to its exact LOD for ``eye`` and wait for all of it; one message.

        Deterministic: after ``flush`` the renderer's state depends only on the layout and ``eye``.
        """
        self._eye = np.asarray(eye, np.float64).reshape(3)
        deadline = time.monotonic() + timeout
        while True:
            self._schedule(exact=True)
            if self._proc is not None:  # the worker process has the queue: wait until it is through
                self._receive(self._proc.wait_idle(deadline))
                ready, self._done = self._done, []
                self._heap = []
            else:
                with self._cv:
                    todo = self._heap
                    self._heap = []
                    while self._busy and time.monotonic() < deadline:
                        self._cv.wait(0.05)
                    ready, self._done = self._done, []
                ready += self._generate_batch(sorted(todo))
            for req, gs in ready:
                self._accept(req, gs)
            if all(a.shown == (a.key, self._target(a, exact=True)) for a in self.anchors.values()):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("world-model stage: flush did not finish in time")
        return self._emit()

    def keyframe(self) -> bytes:
        """Everything sent so far as one keyframe message (for a new client or a save)."""
        return self.mirror.keyframe()

    @property
    def pending(self) -> int:
        """Generations queued, running or finished but not yet handed to the renderer."""
        with self._cv:
            return len(self._heap) + self._busy + len(self._done)

    def splat_count(self) -> int:
        """Gaussians currently sent to the renderer."""
        return self.mirror.splat_count()

    def start(self) -> None:
        """Start the worker now (``frame`` does it on first use): its model loads meanwhile, and
        ``flush`` goes through it from here on (no second model in this process)."""
        if self.threaded:
            self._ensure_worker()

    def wait_worker(self, timeout: float = 600.0) -> None:
        """Block until the worker has finished everything queued so far (tests, benchmarks); what
        it finished waits in the stage, and ``frame`` hands it out as usual. No-op without a worker."""
        deadline = time.monotonic() + timeout
        if self._proc is not None:
            self._receive(self._proc.wait_idle(deadline))
            return
        with self._cv:
            while (self._heap or self._busy) and self._thread is not None:
                if time.monotonic() > deadline:
                    raise TimeoutError("world-model stage: the worker did not finish in time")
                self._cv.wait(0.05)

    def close(self) -> None:
        """Stop the worker (thread or process; a process is terminated if it does not stop)."""
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._proc is not None:
            proc, self._proc = self._proc, None
            proc.close()
            with self._cv:
                self._heap, self._sent_queue = [], ()
                self._outstanding = {(r.uid, r.key, r.lod) for r, _ in self._done}

    # ------------------------------------------------------------------ scheduling

    def _distance(self, a: _Anchor) -> float:
        return max(0.0, float(np.linalg.norm(a.centre - self._eye)) - a.radius)

    def _target(self, a: _Anchor, exact: bool) -> int:
        if a.capture is not None:
            return 0  # a capture has one level of detail: the file
        d = self._distance(a)
        want = min(max(lod_for(d, self.lod_distances), self.min_lod), self.max_lod)
        if exact or a.shown is None or a.shown[0] != a.key:
            return want
        held = a.shown[1]
        if want > held and lod_for(d / HYSTERESIS, self.lod_distances) <= held:
            return held  # inside the hysteresis band: keep the finer set
        return want

    def _on_screen(self, a: _Anchor) -> bool:
        """Roughly in view: the bounding sphere reaches into a 50° cone around the camera direction."""
        v = a.centre - self._eye
        dist = float(np.linalg.norm(v))
        if dist <= a.radius:
            return True
        f = self._forward / max(float(np.linalg.norm(self._forward)), 1e-12)
        angle = math.acos(max(-1.0, min(1.0, float(v @ f) / dist)))
        return angle - math.asin(min(1.0, a.radius / dist)) < math.radians(50.0)

    def _schedule(self, exact: bool) -> None:
        """Queue (or re-prioritise) the generation each anchor needs for the current camera."""
        queue: list[_Request] = []
        for uid in sorted(self.anchors):  # captures: straight from the file, the model is not involved
            a = self.anchors[uid]
            if a.capture is not None and a.shown != (a.key, 0):
                a.shown = (a.key, 0)
                self._ops.append({"o": "set", "a": uid, "lod": 0, **a.capture})
        with self._cv:
            for uid in sorted(self.anchors):
                a = self.anchors[uid]
                if a.capture is not None:
                    continue
                lod = self._target(a, exact)
                restyle = a.shown is not None and a.shown[0] != a.key
                if not exact and a.shown is None and lod < self.max_lod:
                    lod = self.max_lod  # coarse first: something to look at soon
                elif not exact and restyle:
                    lod = max(lod, a.shown[1])  # the new look at the detail it has now; refined after
                want = (a.key, lod)
                if a.shown == want or (uid, *want) in self._outstanding:
                    continue
                d = self._distance(a)
                size = a.radius / max(d + a.radius, 0.1)
                on_screen = self._forward is None or self._on_screen(a)
                if not on_screen:
                    size *= 0.25
                rank = 0 if restyle and on_screen and not exact else 1
                # restyles: changes that came alone first (an input is not queued behind a rain shower
                # that restyled the whole village), then the oldest change, then the largest
                priority = (a.changed_with, a.changed, -size) if rank == 0 else (-size,)
                queue.append(_Request(rank, priority, 0, uid, a.key, lod, a.spec))
                self._mark(uid, a.key, "queued")
            for i, r in enumerate(sorted(queue)):  # deterministic order for equal sizes
                r.order = self._order + i
            self._order += len(queue)
            self._heap = queue
            heapq.heapify(self._heap)
            if queue:
                self._cv.notify_all()
        if self._proc is not None:
            wanted = tuple(r.ident + (r.rank,) for r in sorted(queue))
            if exact or wanted != self._sent_queue:  # flush always asks: it waits for the answer
                self._sent_queue = wanted
                self._proc.send_queue(queue)

    def _pop(self, n: int) -> list[_Request]:
        with self._cv:
            return [heapq.heappop(self._heap) for _ in range(min(n, len(self._heap)))]

    def _generate(self, req: _Request) -> tuple[_Request, Any]:
        with self._load_lock:
            if self._generator is None:
                self._generator = make_generator(self.device)
        return req, self._generator.generate([req.spec], req.lod)[0]

    def _generate_batch(self, reqs: list[_Request]) -> list[tuple[_Request, Any]]:
        """Generate many requests with one model call per level of detail (outputs do not depend on
        the batch: the Generator guarantees it)."""
        if not reqs:
            return []
        with self._load_lock:
            if self._generator is None:
                self._generator = make_generator(self.device)
        out: list[tuple[_Request, Any]] = []
        for lod in sorted({r.lod for r in reqs}):
            group = [r for r in reqs if r.lod == lod]
            out += zip(group, self._generator.generate([r.spec for r in group], lod), strict=True)
        return out

    def _accept(self, req: _Request, gs: Any) -> None:
        with self._cv:
            self._outstanding.discard((req.uid, req.key, req.lod))
        a = self.anchors.get(req.uid)
        if a is None or a.key != req.key:
            return  # removed or restyled since: stale
        if isinstance(gs, WorkerFailure):
            gs = gs.error()
        if isinstance(gs, BaseException):
            raise RuntimeError(f"world model failed on anchor {req.uid!r}") from gs
        a.shown = (req.key, req.lod)
        self._mark(req.uid, req.key, "accepted")
        if isinstance(gs, dict):  # packed by the worker process: the same map pack_op would make
            self._ops.append({"o": "set", "a": req.uid, "lod": int(req.lod), **gs})
        else:
            self._ops.append(wire.pack_op(SetOp(req.uid, gs, req.lod)))

    def _receive(self, messages: list[tuple]) -> None:
        """File the worker process's finished generations into ``_done`` (the frame takes them from there)."""
        for msg in messages:
            if msg[0] != "done":
                continue
            _, t0, t1, results = msg
            got = {req.ident for req, _ in results}
            with self._cv:
                self._heap = [r for r in self._heap if r.ident not in got]
                heapq.heapify(self._heap)
                for req, body in results:
                    self._outstanding.add(req.ident)
                    self._done.append((req, body))
            for req, _ in results:
                self._mark(req.uid, req.key, "start", t0)
                self._mark(req.uid, req.key, "done", t1)

    def _ensure_worker(self) -> None:
        if self.worker == "process":
            if self._proc is None:  # spawned: returns at once, the model loads over there
                import weakref

                self._proc = ProcessWorker(self.device)
                self._sent_queue = ()
                # stopped by close(), or when the stage is collected, or at interpreter exit
                weakref.finalize(self, self._proc.close)
            return
        if self._thread is None:  # the worker loads the model itself: the first frame never waits for torch
            import atexit

            atexit.register(self.close)  # never let the interpreter exit while torch runs on the worker
            self._stop = False
            # The render loop holds the GIL between GL calls; at the default 5 ms switch interval a
            # worker issuing many small torch/numpy calls waits up to 5 ms for each of them.
            sys.setswitchinterval(min(sys.getswitchinterval(), WORKER_SWITCH_INTERVAL_S))
            self._thread = threading.Thread(target=self._work, name="worldmodel-stage", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._heap and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
                # the most important request, plus (on a GPU, where a call costs the same for one
                # entity or a chunk) the next ones of the same LOD in priority order
                batch = take_batch(self._heap, self._batch_size())
                for r in batch:
                    self._outstanding.add((r.uid, r.key, r.lod))
                    self._mark(r.uid, r.key, "start")
                self._busy += len(batch)
            try:
                results = self._generate_batch(batch)
            except Exception as exc:  # handed to the render thread, raised there by _accept
                results = [(r, exc) for r in batch]
            finally:
                with self._cv:
                    self._busy -= len(batch)
                    self._done.extend(results)
                    for r in batch:
                        self._mark(r.uid, r.key, "done")
                    self._cv.notify_all()

    def _batch_size(self) -> int:
        """Requests per worker call (``worldmodel_worker.batch_size``: 1 on the CPU, a chunk on CUDA)."""
        gen = self._generator
        return batch_size("cpu" if gen is None else getattr(getattr(gen, "device", None), "type", "cpu"))

    def _emit(self) -> bytes | None:
        ops = [wire.pack_op(RemoveOp(u)) for u in self._removed]
        for uid in sorted(self._dirty_proxy):
            sp = self.anchors[uid].spec
            ops.append(wire.pack_op(ProxyOp(uid, sp.shape, sp.half_extents, sp.material, sp.state)))
        ops += xform_ops(sorted(self._dirty_xform), self.anchors)
        ops += self._ops
        self._removed, self._ops = [], []
        self._dirty_proxy.clear()
        self._dirty_xform.clear()
        if not ops:
            return None
        data = wire.encode_packed(self.seq, ops)
        for op in ops:  # bytes per op kind, for the benchmark (packing a map again is a memcpy)
            self.bytes_by_op[op["o"]] = self.bytes_by_op.get(op["o"], 0) + len(msgpack.packb(op, use_bin_type=True))
        self.seq += 1
        self.mirror.apply_bytes(data)
        self.last_delta_bytes = len(data)
        self.total_bytes += len(data)
        return data

