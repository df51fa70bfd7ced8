"""The world-model stage: what each kind of layout change sends to the renderer, and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from engine.components import Proxy, Transform
from engine.layout import LayoutDelta, LayoutEntry
from engine.splats import wire
from engine.splats.wire import ProxyOp, RemoveOp, SetOp, SplatScene, XformOp
from systems.worldmodel_stage import WorldModelStage, lod_for, make_generator


@pytest.fixture(scope="module")
def generator():
    return make_generator()


def entry(uid: str, pos=(0.0, 0.5, 0.0), material="brick", state=None) -> LayoutEntry:
    return LayoutEntry(uid, Transform(pos), Proxy("box", (0.5, 0.5, 0.5), material, 0, dict(state or {})))


def kinds(msg: bytes | None) -> list[tuple[str, str]]:
    if msg is None:
        return []
    return [(type(op).__name__, op.anchor) for op in wire.decode(msg).ops]


def test_spawn_shows_proxy_at_once_then_gaussians_without_the_frame_waiting(generator) -> None:
    stage = WorldModelStage(3, generator, threaded=False, budget=1, min_lod=2)
    stage.consume(LayoutDelta(0, spawned=[entry("a"), entry("b", (3, 0.5, 0))]))
    first = wire.decode(stage.frame((0, 1, 5)))
    proxies = [op for op in first.ops if isinstance(op, ProxyOp)]
    assert {p.anchor for p in proxies} == {"a", "b"}
    assert sum(isinstance(op, SetOp) for op in first.ops) == 1  # budget 1: one set this frame
    assert stage.pending == 1
    second = kinds(stage.frame((0, 1, 5)))
    assert [k for k, _ in second] == ["SetOp"] and stage.pending == 0
    stage.close()


def test_moved_is_an_xform_and_never_calls_the_model(generator) -> None:
    calls = []

    class Counting:
        def generate(self, specs, lod):
            calls.append(len(specs))
            return generator.generate(specs, lod)

    stage = WorldModelStage(3, Counting(), threaded=False, min_lod=2)
    stage.consume(LayoutDelta(0, spawned=[entry("crate")]))
    stage.flush((0, 1, 5))
    n = len(calls)
    stage.consume(LayoutDelta(1, moved=[("crate", Transform((0, 2, 0)))]))
    msg = stage.frame((0, 1, 5))
    assert kinds(msg) == [("XformOp", "crate")] and len(calls) == n
    op = wire.decode(msg).ops[0]
    assert isinstance(op, XformOp) and op.matrix[1, 3] == 2.0
    assert len(msg) < 100  # a transform costs tens of bytes, not a re-upload


def test_removed_frees_the_anchor_and_drops_pending_work(generator) -> None:
    stage = WorldModelStage(3, generator, threaded=False, budget=0, min_lod=2)
    stage.consume(LayoutDelta(0, spawned=[entry("a")]))
    stage.frame((0, 1, 5))
    stage.consume(LayoutDelta(1, removed=["a"]))
    stage.budget = 8
    msg = stage.frame((0, 1, 5))
    assert kinds(msg) == [("RemoveOp", "a")]
    assert stage.mirror.anchors == {} and stage.pending == 0


def test_restyle_keeps_old_gaussians_until_new_ones_arrive_and_state_round_trip_is_bit_identical(generator) -> None:
    """Persistence guarantee (3): wetness 0 -> 0.4 -> 0 gives back bit-identical Gaussians."""
    stage = WorldModelStage(3, generator, threaded=True, min_lod=2)
    renderer = SplatScene()
    stage.consume(LayoutDelta(0, spawned=[entry("wall")]))
    renderer.apply_bytes(stage.flush((0, 1, 5)))
    dry = renderer.anchors["wall"].gaussians
    stage.consume(LayoutDelta(1, restyled=[entry("wall", state={"wetness": 0.4})]))
    stage.budget = 0
    renderer.apply_bytes(stage.frame((0, 1, 5)))
    assert renderer.anchors["wall"].proxy.state[1] == pytest.approx(0.4)
    assert renderer.anchors["wall"].gaussians is dry  # old splats stay on screen meanwhile
    wet_msg = stage.flush((0, 1, 5))
    assert ("SetOp", "wall") in kinds(wet_msg)  # regenerated for the new state
    renderer.apply_bytes(wet_msg)
    assert renderer.anchors["wall"].gaussians is not dry
    stage.consume(LayoutDelta(2, restyled=[entry("wall", state={"wetness": 0.0})]))
    renderer.apply_bytes(stage.flush((0, 1, 5)))
    assert renderer.anchors["wall"].gaussians.equals(dry)
    stage.close()


def test_lod_follows_distance_coarse_first_then_refined(generator) -> None:
    assert [lod_for(d) for d in (0.0, 5.9, 6.0, 17.9, 18.0, 500.0)] == [0, 0, 1, 1, 2, 2]
    stage = WorldModelStage(3, generator, threaded=False, budget=1)
    stage.consume(LayoutDelta(0, spawned=[entry("near")]))
    first = [op for op in wire.decode(stage.frame((0, 1, 2))).ops if isinstance(op, SetOp)]
    assert [op.lod for op in first] == [2]  # coarse first
    refined = [op for op in wire.decode(stage.frame((0, 1, 2))).ops if isinstance(op, SetOp)]
    assert [op.lod for op in refined] == [0]
    assert len(refined[0].gaussians) > len(first[0].gaussians)
    far = stage.flush((0, 1, 40))  # walk away: coarse again, exactly
    assert [op.lod for op in wire.decode(far).ops if isinstance(op, SetOp)] == [2]


def test_two_stages_fed_the_same_layout_send_identical_keyframes(generator) -> None:
    layout = LayoutDelta(0, spawned=[entry(f"e{i}", (i * 2.0, 0.5, -i * 1.5), m)
                                     for i, m in enumerate(("brick", "stone", "grass", "metal"))])
    frames = []
    for threaded in (True, False):
        stage = WorldModelStage(11, generator, threaded=threaded, min_lod=1)
        stage.consume(layout)
        for _ in range(3):
            stage.frame((0, 1, 6))
        stage.flush((0, 1, 6))
        frames.append(stage.mirror.keyframe(seq=0))
        stage.close()
    assert frames[0] == frames[1]
    client = SplatScene()
    client.apply_bytes(frames[0])
    assert set(client.anchors) == {"e0", "e1", "e2", "e3"}
    assert all(a.gaussians is not None and np.isfinite(a.gaussians.means).all() for a in client.anchors.values())
    assert not any(isinstance(op, RemoveOp) for op in wire.decode(frames[0]).ops)


def test_anchors_on_screen_are_generated_before_those_behind_the_camera(generator) -> None:
    stage = WorldModelStage(3, generator, threaded=False, budget=1, min_lod=2)
    # equal sizes and distances: without a direction the uid order would pick "a_behind" first
    stage.consume(LayoutDelta(0, spawned=[entry("a_behind", (0, 0.5, -4)), entry("b_ahead", (0, 0.5, 4))]))
    msg = wire.decode(stage.frame((0, 1, 0), forward=(0, 0, 1)))
    assert [op.anchor for op in msg.ops if isinstance(op, SetOp)] == ["b_ahead"]
    other = WorldModelStage(3, generator, threaded=False, budget=1, min_lod=2)
    other.consume(LayoutDelta(0, spawned=[entry("a_behind", (0, 0.5, -4)), entry("b_ahead", (0, 0.5, 4))]))
    msg = wire.decode(other.frame((0, 1, 0)))
    assert [op.anchor for op in msg.ops if isinstance(op, SetOp)] == ["a_behind"]


def test_after_a_load_anchors_missing_from_the_loaded_world_are_removed(generator) -> None:
    stage = WorldModelStage(3, generator, threaded=False, min_lod=2)
    stage.consume(LayoutDelta(0, spawned=[entry("kept"), entry("gone", (2, 0.5, 0))]))
    stage.flush((0, 1, 5))
    stage.load_state(None)
    stage.consume(LayoutDelta(1, spawned=[entry("kept")]))  # the tracker re-publishes the loaded world
    msg = stage.flush((0, 1, 5))
    assert ("RemoveOp", "gone") in kinds(msg) and ("SetOp", "kept") not in kinds(msg)  # no regeneration
    assert set(stage.mirror.anchors) == {"kept"}


def test_worker_batches_same_lod_requests_on_a_gpu_generator(generator) -> None:
    import time
    from types import SimpleNamespace

    calls: list[int] = []

    class GpuLike:  # the real CPU generator, reporting a CUDA device so the stage batches
        device = SimpleNamespace(type="cuda")

        def generate(self, specs, lod):
            calls.append(len(specs))
            return generator.generate(specs, lod)

    stage = WorldModelStage(3, GpuLike(), threaded=True, budget=64, min_lod=2)
    stage.consume(LayoutDelta(0, spawned=[entry(f"e{i}", (i, 0.5, 0)) for i in range(6)]))
    stage.frame((0, 1, 5))
    deadline = time.monotonic() + 60
    while stage.pending and time.monotonic() < deadline:
        time.sleep(0.01)
        stage.frame((0, 1, 5))
    stage.close()
    assert sum(calls) == 6 and max(calls) > 1
    assert len(stage.mirror.anchors) == 6 and all(a.gaussians is not None for a in stage.mirror.anchors.values())


def test_restyle_of_a_shown_anchor_goes_first_at_its_current_lod(generator) -> None:
    """An input that changes how something on screen looks is not queued behind level-of-detail
    refinement of other anchors, nor made to wait for a finer set: it arrives first, at the detail
    the anchor has now; refinement follows; ``flush`` still ends at the exact LOD."""
    stage = WorldModelStage(3, generator, threaded=False, budget=1)
    stage.consume(LayoutDelta(0, spawned=[entry("a"), entry("b", (1.5, 0.5, 0)), entry("c", (-1.5, 0.5, 0))]))
    stage.flush((0, 1, 30))  # far away: everything at the coarsest LOD
    assert {a.shown[1] for a in stage.anchors.values()} == {2}
    shower = [entry("a", state={"wetness": 0.1}), entry("c", (-1.5, 0.5, 0), state={"wetness": 0.1})]
    stage.consume(LayoutDelta(1, restyled=shower))  # a rain step restyles many anchors at once
    stage.consume(LayoutDelta(2, restyled=[entry("b", (1.5, 0.5, 0), state={"damage": 0.3})]))  # an input
    near, forward = (0, 1, 4), (0, -0.2, -1)  # close: a, b and c all want LOD 0
    sets = [op for op in wire.decode(stage.frame(near, forward)).ops if isinstance(op, SetOp)]
    assert [(op.anchor, op.lod) for op in sets] == [("b", 2)]  # the lone edit first, at its current LOD
    order = []
    for _ in range(2):
        order += [(op.anchor, op.lod) for op in wire.decode(stage.frame(near, forward)).ops if isinstance(op, SetOp)]
    assert order == [("a", 2), ("c", 2)]  # then the shower, largest on screen first; refinement after
    assert stage.anchors["b"].shown == (stage.anchors["b"].key, 2)
    for _ in range(3):
        stage.frame(near, forward)
    assert {uid: a.shown[1] for uid, a in stage.anchors.items()} == {"a": 0, "b": 0, "c": 0}
    # the same world flushed from scratch ends in the same Gaussians (determinism holds)
    other = WorldModelStage(3, generator, threaded=False)
    other.consume(LayoutDelta(0, spawned=[*shower, entry("b", (1.5, 0.5, 0), state={"damage": 0.3})]))
    other.flush(near)
    assert stage.mirror.keyframe(seq=0) == other.mirror.keyframe(seq=0)
    stage.close()
    other.close()


def test_threaded_restyle_is_delivered_ahead_of_the_budget(generator) -> None:
    """On the worker thread, finished restyles go out in the next frame even when more finished
    refinement work than the per-frame budget is waiting."""
    import time

    stage = WorldModelStage(3, generator, threaded=True, budget=1, min_lod=2)
    uids = [f"e{i}" for i in range(6)]
    stage.consume(LayoutDelta(0, spawned=[entry(u, (i - 2.5, 0.5, 0)) for i, u in enumerate(uids)]))
    stage.flush((0, 1, 5))
    stage.frame((0, 1, 5), (0, 0, -1))  # the worker is running from here on
    stage.consume(LayoutDelta(1, restyled=[entry(u, (i - 2.5, 0.5, 0), state={"burn": 0.5})
                                           for i, u in enumerate(uids)]))
    deadline = time.monotonic() + 60
    while stage.pending and time.monotonic() < deadline:  # never waits inside frame: poll from here
        with stage._cv:
            if not stage._heap and not stage._busy:
                break
        time.sleep(0.01)
    sets = [op for op in wire.decode(stage.frame((0, 1, 5), (0, 0, -1))).ops if isinstance(op, SetOp)]
    assert sorted(op.anchor for op in sets) == uids  # all six, though the budget is one
    stage.close()
