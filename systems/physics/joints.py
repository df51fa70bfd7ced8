"""Joints: a ``Joint`` component → a Rapier impulse joint between two entities' bodies.

``fixed`` welds, ``hinge`` rotates about ``axis`` (doors: limits in radians + a motor), ``ball``
swings freely about the anchor, ``prismatic`` slides along ``axis`` (gates: limits in metres +
a motor). Anchors are in each body's local frame. Limits and motors measure *this* entity's motion
relative to the ``other`` one (a door's angle in its frame), so Rapier's body 1 is the other
entity and body 2 this one.
"""

from __future__ import annotations

from typing import Any

import rapier3d as rp

from engine.physics_components import Joint


def _v(a: Any) -> tuple[float, float, float]:
    return (float(a[0]), float(a[1]), float(a[2]))


def joint_builder(j: Joint) -> Any:
    """The Rapier joint data for ``j`` (validated beforehand)."""
    if j.kind == "fixed":
        b: Any = rp.FixedJointBuilder().local_anchor1(_v(j.other_anchor)).local_anchor2(_v(j.anchor))
    elif j.kind == "ball":
        b = rp.SphericalJointBuilder().local_anchor1(_v(j.other_anchor)).local_anchor2(_v(j.anchor))
    else:
        cls = rp.RevoluteJointBuilder if j.kind == "hinge" else rp.PrismaticJointBuilder
        b = cls(_v(j.axis)).local_anchor1(_v(j.other_anchor)).local_anchor2(_v(j.anchor))
        if j.limits is not None:
            b = b.limits(j.limits[0], j.limits[1])
        if j.has_motor:
            b = b.motor(j.motor_target, j.motor_speed, j.motor_stiffness, j.motor_damping).motor_max_force(j.motor_max_force)
    return b.contacts_enabled(j.contacts).build()
