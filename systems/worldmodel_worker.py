"""The world model in its own process: generation requests in, quantised ``set`` bodies out.

Why a process: the render loop runs Python between GL calls all frame long, so a model thread
in the same interpreter waits for the GIL before each of its hundreds of small torch calls (on an
H200 a 5 ms call took 80-100 ms under a 200 FPS loop). A worker process has its own interpreter.

    worker = ProcessWorker(device="auto")     # spawns; returns at once (the model loads over there)
    worker.send_queue([Request(...), ...])    # the whole priority queue; replaces the previous one
    for msg in worker.receive():              # never blocks (timeout=0)
        ...                                   # ("done", start, end, [(request, body | WorkerFailure)]) / ("idle", qid)
    worker.close()                            # stop, join; terminate if it does not go

Protocol (``multiprocessing`` 'spawn' context: forking after torch or GL is up is unsafe):

- parent → worker: ``("queue", qid, received, requests)``, ``("stop",)``. ``received`` counts the
  results the parent has read so far; results the worker sent after those are still in the pipe,
  so the worker drops them (and whatever it is running now) from the new queue instead of
  generating them twice.
- worker → parent: ``("hello", pid)`` as soon as it listens (the parent holds queues until then,
  so a loading worker never fills the pipe and stalls the render loop); ``("ready", device)``
  once the model is loaded; ``("failed", kind, args, text)`` when it could not load;
  ``("done", t_start, t_end, results)`` per batch, each result a request (without its spec) and
  either the ``wire.pack_set`` body of its Gaussians or a :class:`WorkerFailure`; ``("idle", qid)``
  once the worker has nothing left of queue ``qid`` (everything of it is in the pipe before).

The worker quantises (``wire.pack_set``) itself: a pure numpy function of the Gaussians, so the
bytes are the ones the thread path would have packed, and the render process does less work.
Gaussians are bit-identical to the thread path on the same device type (the Generator's
guarantee holds in any process); ``tests/systems/test_worldmodel_worker.py`` compares the two.

The worker leaves when told, when the parent's end of the pipe closes (the parent exited or was
killed: no orphans), and ignores SIGINT (Ctrl-C in a terminal reaches the whole process group;
the parent decides). Torch, OpenMP and BLAS run with one thread there (unless the environment
says otherwise): the CPU path pins one thread per call anyway, on CUDA the host side is a
launcher, and on a small machine the other cores belong to the render loop.
"""

from __future__ import annotations

import heapq
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from engine.errors import AnchorworldError


@dataclass(order=True)
class Request:
    """One generation the stage wants: anchor ``uid`` with proxy key ``key`` at level of detail ``lod``."""

    rank: int  # 0: a new look for an on-screen anchor that already has Gaussians; 1: everything else
    priority: tuple  # (-apparent size,): the heap pops the largest first; restyles: see the stage's _schedule
    order: int  # FIFO among equals (deterministic)
    uid: str = ""
    key: tuple = ()
    lod: int = 0
    spec: Any = None  # worldmodel.spec.ProxySpec

    @property
    def ident(self) -> tuple:
        """(uid, key, lod): what the request asks for, whatever its priority."""
        return (self.uid, self.key, self.lod)


def take_batch(heap: list[Request], size: int) -> list[Request]:
    """Pop the next model call's requests from ``heap``: the most important one, plus up to
    ``size - 1`` more of the same level of detail in priority order; a restyle (rank 0) never waits
    behind a chunk of refinement work. The rest stays in ``heap``."""
    batch = [heapq.heappop(heap)]
    room = size - 1
    skipped: list[Request] = []
    while room and heap:
        r = heapq.heappop(heap)
        if r.rank > batch[0].rank:
            heapq.heappush(heap, r)
            break
        if r.lod == batch[0].lod:
            batch.append(r)
            room -= 1
        else:
            skipped.append(r)
    for r in skipped:
        heapq.heappush(heap, r)
    return batch


class WorkerDied(AnchorworldError):
    """The world-model worker process went away (killed, out of memory, crashed)."""


@dataclass
class WorkerFailure:
    """A generation that raised in the worker: the exception's type name and its traceback text."""

    kind: str
    text: str

    def error(self) -> RuntimeError:
        """An exception to chain from (the original cannot always be pickled)."""
        return RuntimeError(f"in the world-model worker process: {self.kind}\n{self.text}")


def batch_size(device_type: str) -> int:
    """Requests per model call: 1 on the CPU (each entity runs alone there anyway, so a batch would
    only delay the first result), a padded chunk's worth on CUDA."""
    if device_type == "cpu":
        return 1
    from worldmodel.generator import CUDA_CHUNK

    return CUDA_CHUNK


class ProcessWorker:
    """The parent's handle on one world-model worker process (see the module docstring).

    device: "cpu", "cuda" or "auto" (CUDA when torch sees a GPU there).
    """

    def __init__(self, device: str = "auto") -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=serve, args=(child, device), name="anchorworld-worldmodel", daemon=True)
        with _main_module_hidden():
            self.process.start()
        child.close()  # the parent keeps only its own end: EOF reaches each side when the other goes
        self.device = device
        self.listening = False  # the worker's reader runs ("hello")
        self.ready: str | None = None  # the worker's torch device, once the model is loaded
        self.qid = 0  # queues sent (or held)
        self.received = 0  # results read
        self.idle_qid = 0  # the newest queue the worker reported done with
        self._held: list[Request] | None = None  # the newest queue, until the worker listens
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The worker's process id."""
        return self.process.pid

    def send_queue(self, requests: list[Request]) -> int:
        """Replace the worker's queue with ``requests`` (any order; the worker heapifies); returns its qid."""
        self.qid += 1
        if not self.listening:
            self._held = list(requests)
            return self.qid
        self._send(("queue", self.qid, self.received, list(requests)))
        return self.qid

    def receive(self, timeout: float = 0.0) -> list[tuple]:
        """Messages from the worker: everything already there, or (``timeout`` > 0) waiting up to
        that long for the first. Raises :class:`WorkerDied` when the worker is gone, and re-raises
        a model-loading error (e.g. a bad checkpoint's ``InputError``)."""
        out: list[tuple] = []
        try:
            while self.conn.poll(timeout):
                timeout = 0.0
                msg = self.conn.recv()
                kind = msg[0]
                if kind == "hello":
                    self.listening = True
                    if self._held is not None:
                        held, self._held = self._held, None
                        self._send(("queue", self.qid, self.received, held))
                elif kind == "ready":
                    self.ready = msg[1]
                elif kind == "failed":
                    raise _loading_error(*msg[1:])
                else:
                    if kind == "done":
                        self.received += len(msg[3])
                    elif kind == "idle":
                        self.idle_qid = max(self.idle_qid, msg[1])
                    out.append(msg)
        except (EOFError, ConnectionError, OSError):
            raise self._died() from None
        return out

    def wait_idle(self, deadline: float) -> list[tuple]:
        """Receive until the worker reports idle for the newest queue (or ``time.monotonic()``
        passes ``deadline``: TimeoutError)."""
        out: list[tuple] = []
        while self.idle_qid < self.qid:
            if time.monotonic() > deadline:
                raise TimeoutError("world-model worker process: no answer in time")
            out += self.receive(0.05)
            if not self.process.is_alive() and self.idle_qid < self.qid:
                out += self.receive(0.0)  # what it sent before it went, then the error
                raise self._died()
        return out

    def _send(self, msg: tuple) -> None:
        try:
            self.conn.send(msg)
        except (ConnectionError, OSError):
            raise self._died() from None

    def _died(self) -> WorkerDied:
        self.process.join(1.0)
        code = self.process.exitcode
        if code is None:
            how = "stopped answering"
        elif code < 0:
            import signal

            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        hint = " (out of memory?)" if code == -9 else ""
        return WorkerDied(f"world-model worker process (pid {self.pid}) {how}{hint}; generations in progress "
                          f"are lost. Restart the game, or run the model in this process with ANCHORWORLD_WORKER=thread")

    def close(self, timeout: float = 5.0) -> None:
        """Ask the worker to stop and wait for it; terminate (then kill) it if it does not go."""
        if self._closed:
            return
        self._closed = True
        try:
            self.conn.send(("stop",))
        except (ConnectionError, OSError):
            pass
        p = self.process
        p.join(timeout)
        if p.is_alive():
            p.terminate()
            p.join(timeout)
        if p.is_alive():
            p.kill()
            p.join(timeout)
        self.conn.close()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While a worker is spawned, hide where ``__main__`` came from, so the child does not run the
    parent's main script again: a game script calls ``game.run()`` at its top level (``games/hello.py``),
    and the worker needs nothing from it (its target and messages live in packages)."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved_file = main.__dict__.pop("__file__", _MISSING)
    saved_spec = main.__dict__.get("__spec__", _MISSING)
    main.__spec__ = None
    try:
        yield
    finally:
        if saved_file is not _MISSING:
            main.__file__ = saved_file
        if saved_spec is _MISSING:
            main.__dict__.pop("__spec__", None)
        else:
            main.__spec__ = saved_spec


_MISSING = object()


def _loading_error(kind: str, args: tuple, text: str) -> Exception:
    from engine.errors import InputError

    if kind == "InputError":
        return InputError(*args)
    return RuntimeError(f"world-model worker process could not load the model: {kind}\n{text}")


# ---------------------------------------------------------------------------------- the worker side


class _Served:
    """The worker's shared state (guarded by ``cv``)."""

    def __init__(self) -> None:
        self.cv = threading.Condition()
        self.heap: list[Request] = []
        self.running: set[tuple] = set()
        self.sent: list[tuple] = []  # idents of results sent, from index ``sent_base`` on
        self.sent_base = 0
        self.qid = 0
        self.idle_sent = 0
        self.stop = False
        self.loaded = False


def _read(conn: Any, st: _Served) -> None:
    """The worker's reader thread: keeps the pipe drained; each queue replaces the last."""
    while True:
        try:
            msg = conn.recv()
        except (EOFError, ConnectionError, OSError):
            msg = ("stop",)  # the parent is gone
        with st.cv:
            if msg[0] == "stop":
                st.stop = True
                st.cv.notify_all()
                if not st.loaded:
                    os._exit(0)  # still importing torch: nothing to finish
                return
            _, qid, received, requests = msg
            del st.sent[:max(0, received - st.sent_base)]
            st.sent_base = max(st.sent_base, received)
            skip = st.running | set(st.sent)  # running now, or finished and still in the pipe
            st.heap = [r for r in requests if r.ident not in skip]
            heapq.heapify(st.heap)
            st.qid = qid
            st.cv.notify_all()


def serve(conn: Any, device: str) -> None:
    """The worker process: load the model once, then generate queued requests until told to stop."""
    import signal
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # before numpy/torch load: one core for the model, the rest to the frame
    st = _Served()
    threading.Thread(target=_read, args=(conn, st), name="worldmodel-reader", daemon=True).start()

    def send(msg: tuple) -> None:
        try:
            conn.send(msg)
        except (ConnectionError, OSError):
            os._exit(0)  # the parent is gone

    send(("hello", os.getpid()))
    try:
        import torch

        torch.set_num_threads(1)
        from engine.splats import wire
        from systems.worldmodel_stage import make_generator

        gen = make_generator(device)
    except Exception as exc:
        args = (exc.source, exc.field, exc.expected) if type(exc).__name__ == "InputError" else ()
        send(("failed", type(exc).__name__, args, traceback.format_exc()))
        return
    size = batch_size(gen.device.type)
    with st.cv:
        st.loaded = True
    send(("ready", str(gen.device)))
    while True:
        idle = 0
        with st.cv:
            while not st.heap and not st.stop and st.idle_sent >= st.qid:
                st.cv.wait()
            if st.stop:
                break
            if st.heap:
                batch = take_batch(st.heap, size)
                st.running = {r.ident for r in batch}
            else:
                idle = st.idle_sent = st.qid
        if idle:  # sent outside the lock: a full pipe must never stop the reader
            send(("idle", idle))
            continue
        t0 = time.perf_counter()  # CLOCK_MONOTONIC: comparable with the parent's perf_counter
        results: list[tuple[Request, Any]]
        try:
            sets = gen.generate([r.spec for r in batch], batch[0].lod)
            results = [(replace(r, spec=None), wire.pack_set(gs)) for r, gs in zip(batch, sets, strict=True)]
        except Exception as exc:
            fail = WorkerFailure(type(exc).__name__, traceback.format_exc())
            results = [(replace(r, spec=None), fail) for r in batch]
        t1 = time.perf_counter()
        with st.cv:
            st.sent += [r.ident for r in batch]
            st.running = set()
        send(("done", t0, t1, results))
    conn.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # nothing left to finish; skip torch's slow interpreter teardown (close() waits for it)
