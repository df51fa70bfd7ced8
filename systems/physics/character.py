"""Characters: Rapier's kinematic character controller driven by a ``CharacterController``.

Each tick the character's intent (``walk`` m/s, a jump, gravity) becomes a desired translation;
Rapier's controller slides it along walls, climbs steps up to the autostep height, refuses slopes
steeper than the limit and snaps it to the ground; the dynamic bodies it walks into get Rapier's
collision impulses for the character's ``mass``.
"""

from __future__ import annotations

import math

import numpy as np
import rapier3d as rp

from engine.physics_components import CharacterController
from systems.physics.adapter import Record, Simulation, compose, iso_from_pose

GROUND_STICK = 0.5  # m/s: a grounded character's minimum downward intent (see move_character)


def move_character(
    sim: Simulation,
    rec: Record,
    kcc: rp.KinematicCharacterController,
    cc: CharacterController,
    pose7: np.ndarray,
    dt: float,
) -> tuple[np.ndarray, bool, int | None]:
    """Move a character from ``pose7`` by its walk/jump/gravity; returns (new pos (3,), grounded,
    the entity it stands on or None)."""
    assert rec.spec is not None
    vy = cc.vertical_speed
    if cc.jump_requested and cc.grounded:
        vy = cc.jump_speed
    cc.jump_requested = False
    vy -= cc.gravity * dt
    down = vy * dt
    if cc.grounded and vy <= 0.0:
        # press into the ground a little every tick: Rapier's controller then keeps touching
        # it, which is how it carries a character on a moving (kinematic) platform
        down = min(down, -GROUND_STICK * dt)
    want = (float(cc.walk[0]) * dt, down, float(cc.walk[2]) * dt)
    iso = compose(iso_from_pose(pose7), rec.spec)
    own = sim.world.colliders[rec.collider]
    shape = own.shape
    # the character collides with what its own collision groups / mask allow
    qf = rp.QueryFilter(groups=own.collision_groups, exclude_rigid_body=rec.body).exclude_sensors()
    hits: list[rp.CharacterCollision] = []
    mv = kcc.move_shape(
        dt,
        sim.world.rigid_bodies,
        sim.world.colliders,
        sim.world.query_pipeline,
        shape,
        iso,
        want,
        filter=qf,
        events_callback=hits.append,
    )
    if hits and cc.mass > 0.0:
        # Rapier's own answer to "the player walks into a crate": impulses on the dynamic bodies hit
        kcc.solve_character_collision_impulses(
            dt, sim.world.rigid_bodies, sim.world.colliders, sim.world.query_pipeline, shape, iso, cc.mass, hits, qf
        )
    grounded = bool(mv.grounded)
    t = mv.translation
    if grounded and vy < 0.0:
        vy = 0.0
    elif not grounded and vy > 0.0 and t.y < want[1] * 0.5:
        vy = 0.0  # bumped a ceiling
    cc.vertical_speed = vy
    new = np.array([pose7[0] + t.x, pose7[1] + t.y, pose7[2] + t.z])
    rec.view.set_next_kinematic_translation((new[0], new[1], new[2]))
    ground = None
    for hit in hits:  # the collider under the feet (its surface faces up)
        if hit.hit.normal1.y > 0.5:
            ground = sim.by_collider.get(hit.handle)
    return new, grounded, ground


def kcc_for(cc: CharacterController) -> rp.KinematicCharacterController:
    """Rapier's character controller configured from a ``CharacterController`` component."""
    autostep = None
    if cc.autostep_height > 0.0:
        autostep = rp.CharacterAutostep(
            max_height=rp.CharacterLength.absolute(cc.autostep_height),
            min_width=rp.CharacterLength.absolute(cc.autostep_min_width),
            include_dynamic_bodies=False,
        )
    return rp.KinematicCharacterController(
        offset=rp.CharacterLength.absolute(cc.offset),
        autostep=autostep,
        max_slope_climb_angle=math.radians(cc.max_slope_deg),
        min_slope_slide_angle=math.radians(cc.min_slide_deg),
        snap_to_ground=rp.CharacterLength.absolute(cc.snap_to_ground) if cc.snap_to_ground > 0 else None,
    )
