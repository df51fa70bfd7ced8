"""Editor file bookkeeping: recent files and autosave backups."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tools.editor.document import Document, atomic_write

MAX_RECENT = 10


def config_dir() -> Path:
    """Where editor settings live (``$ANCHORWORLD_CONFIG_DIR`` or ``~/.config/anchorworld``)."""
    env = os.environ.get("ANCHORWORLD_CONFIG_DIR")
    return Path(env) if env else Path.home() / ".config" / "anchorworld"


def recent_files() -> list[str]:
    """Most recent first; unreadable or malformed settings give an empty list."""
    try:
        data = json.loads((config_dir() / "editor_recent.json").read_text())
        return [str(p) for p in data if isinstance(p, str)][:MAX_RECENT]
    except (OSError, ValueError, TypeError):
        return []


def remember(path: str | Path) -> list[str]:
    """Put ``path`` first in the recent list (atomically saved); returns the new list."""
    p = str(Path(path).resolve())
    items = [p, *[r for r in recent_files() if r != p]][:MAX_RECENT]
    try:
        atomic_write(config_dir() / "editor_recent.json", json.dumps(items, indent=1).encode(), make_parents=True)
    except OSError:
        pass  # a read-only home must not stop editing
    return items


def autosave_path(doc: Document) -> Path:
    """``<level>.autosave`` beside the level, or in the config dir for an unnamed level."""
    if doc.path is not None:
        return doc.path.with_name(doc.path.name + ".autosave")
    return config_dir() / "untitled.level.json.autosave"


def autosave(doc: Document) -> Path | None:
    """Write a backup of an unsaved level (never the level file itself); None if not dirty."""
    if not doc.dirty:
        return None
    target = autosave_path(doc)
    atomic_write(target, doc.to_bytes(), make_parents=True)
    return target
