"""Load a GLSL file from ``shaders/`` that holds both stages split by ``#if defined VERTEX_SHADER``."""

from __future__ import annotations

from pathlib import Path

import moderngl

SHADER_DIR = Path(__file__).resolve().parents[2] / "shaders"


def stage_sources(name: str) -> tuple[str, str]:
    """(vertex, fragment) sources of ``shaders/<name>``; each stage's ``#define`` follows ``#version``."""
    lines = (SHADER_DIR / name).read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("#version"))
    version, body = lines[i], "\n".join(lines[i + 1 :])
    return (
        f"{version}\n#define VERTEX_SHADER\n{body}\n",
        f"{version}\n#define FRAGMENT_SHADER\n{body}\n",
    )


def program(ctx: moderngl.Context, name: str) -> moderngl.Program:
    """Compile and link ``shaders/<name>``."""
    vs, fs = stage_sources(name)
    return ctx.program(vertex_shader=vs, fragment_shader=fs)
