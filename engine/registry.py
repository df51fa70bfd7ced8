"""The component registry: names and plain-data codecs for components in levels, saves and the hash.

Any dataclass can be registered; its fields are encoded generically (numpy arrays → lists, nested
dataclasses → dicts, enums → their name, floats/ints/str/bool/None, lists, dicts with str keys).
Decoding is typed by the dataclass's annotations and defaults and raises ``InputError`` naming the
JSON path. A class that is not a dataclass registers explicit ``encode``/``decode`` functions.

    from engine.registry import register_component

    @register_component
    @dataclass
    class Health:
        hp: float = 100.0
"""

from __future__ import annotations

import dataclasses
import enum
import math
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from engine.errors import InputError

T = TypeVar("T")


class FieldError(ValueError):
    """Raised by a component's ``__post_init__`` to point at a sub-field (``half_extents[1]``)."""

    def __init__(self, field: str, expected: str) -> None:
        self.field = field
        self.expected = expected
        super().__init__(f"{field}: {expected}")


@dataclasses.dataclass(frozen=True)
class _Entry:
    cls: type
    name: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any, str, str], Any]


_BY_NAME: dict[str, _Entry] = {}
_BY_TYPE: dict[type, _Entry] = {}


def register_component(
    cls: type[T] | None = None,
    name: str | None = None,
    *,
    encode: Callable[[Any], Any] | None = None,
    decode: Callable[[Any, str, str], Any] | None = None,
) -> Any:
    """Register a component class under ``name`` (default: the class name). Usable as a decorator.

    encode(obj) -> plain data; decode(data, source, path) -> obj (raise InputError on bad data).
    Both default to the generic dataclass codec. Registering the same class again is a no-op;
    another class under a taken name raises ``ValueError``.
    """

    def apply(c: type[T]) -> type[T]:
        n = name or c.__name__
        old = _BY_NAME.get(n)
        if old is not None and old.cls is not c:
            if old.cls.__qualname__ == c.__qualname__ and old.cls.__module__ == c.__module__:
                pass  # the same class re-executed (hot reload of a game script): take the new one
            else:
                raise ValueError(f"component name {n!r} is already registered to {old.cls!r}")
        if encode is None and not dataclasses.is_dataclass(c):
            raise TypeError(f"{c!r} is not a dataclass; pass encode= and decode=")
        entry = _Entry(
            c,
            n,
            encode or (lambda obj: _encode_dataclass(obj)),
            decode or (lambda data, source, path, c=c: _decode_dataclass(c, data, source, path)),
        )
        if old is not None:
            _BY_TYPE.pop(old.cls, None)
        _BY_NAME[n] = entry
        _BY_TYPE[c] = entry
        return c

    if cls is None:
        return apply
    return apply(cls)


def is_registered(cls: type) -> bool:
    """Whether instances of ``cls`` are saved, hashed and written to levels."""
    return cls in _BY_TYPE


def component_name(cls: type) -> str:
    """The registered name of a component class (``KeyError`` if unregistered)."""
    return _BY_TYPE[cls].name


def component_type(name: str) -> type | None:
    """The class registered under ``name``, or None."""
    e = _BY_NAME.get(name)
    return e.cls if e else None


def registered_names() -> list[str]:
    """All registered component names, sorted."""
    return sorted(_BY_NAME)


def encode_component(obj: Any) -> Any:
    """Plain data (msgpack- and JSON-safe) for a registered component instance."""
    return _BY_TYPE[type(obj)].encode(obj)


def decode_component(name: str, data: Any, source: str = "<data>", path: str = "") -> Any:
    """Rebuild a component from plain data; ``InputError(source, path, expected)`` on bad data."""
    e = _BY_NAME.get(name)
    if e is None:
        raise InputError(source, path, f"a registered component name ({', '.join(registered_names())}), got {name!r}")
    return e.decode(data, source, path)


# ---------------------------------------------------------------- generic dataclass codec


def encode_value(v: Any) -> Any:
    """Plain data for one field value (used by custom codecs too)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, enum.Enum):
        return v.name
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return _encode_dataclass(v)
    if isinstance(v, dict):
        return {str(k): encode_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [encode_value(x) for x in v]
    raise TypeError(f"cannot encode {type(v).__name__} value {v!r} in a component")


def _encode_dataclass(obj: Any) -> dict[str, Any]:
    return {f.name: encode_value(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    h = _HINTS.get(cls)
    if h is None:
        try:
            h = typing.get_type_hints(cls)
        except Exception:  # unresolvable forward refs: fall back to defaults only
            h = {}
        _HINTS[cls] = h
    return h


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _decode_dataclass(cls: type, data: Any, source: str, path: str) -> Any:
    if not isinstance(data, dict):
        raise InputError(source, path, f"an object with the fields of {cls.__name__}, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for k in data:
        if k not in fields:
            raise InputError(source, _join(path, str(k)), f"a field of {cls.__name__} ({', '.join(fields)})")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for fname, f in fields.items():
        if fname not in data:
            continue
        kwargs[fname] = decode_value(data[fname], hints.get(fname, Any), _default(f), source, _join(path, fname))
    try:
        return cls(**kwargs)
    except FieldError as exc:
        raise InputError(source, _join(path, exc.field), exc.expected) from None
    except (ValueError, TypeError) as exc:
        raise InputError(source, path, f"a valid {cls.__name__} ({exc})") from None


def _join(path: str, key: str) -> str:
    if key.startswith("["):
        return path + key
    return f"{path}.{key}" if path else key


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def decode_value(v: Any, hint: Any, default: Any, source: str, path: str) -> Any:
    """Decode one field value by its type hint and default; raises ``InputError`` with ``path``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if v is None and type(None) in args:
            return None
        rest = [a for a in args if a is not type(None)]
        hint = rest[0] if len(rest) == 1 else Any
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(default, np.ndarray) or hint is np.ndarray:
        return _decode_array(v, default, source, path)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if not isinstance(v, str) or v not in hint.__members__:
            raise InputError(source, path, f"one of {', '.join(hint.__members__)}, got {v!r}")
        return hint[v]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, v, source, path)
    if hint is bool or isinstance(default, bool):
        if not isinstance(v, bool):
            raise InputError(source, path, f"true or false, got {v!r}")
        return v
    if hint is int or (hint is Any and isinstance(default, int) and not isinstance(default, bool)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise InputError(source, path, f"an integer, got {v!r}")
        return v
    if hint is float or (hint is Any and isinstance(default, float)):
        if not _is_number(v) or not math.isfinite(v):
            raise InputError(source, path, f"a finite number, got {v!r}")
        return float(v)
    if hint is str or (hint is Any and isinstance(default, str)):
        if not isinstance(v, str):
            raise InputError(source, path, f"a string, got {v!r}")
        return v
    if origin is dict or hint is dict or (hint is Any and isinstance(default, dict)):
        if not isinstance(v, dict):
            raise InputError(source, path, f"an object, got {type(v).__name__}")
        vh = args[1] if len(args) == 2 else Any
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise InputError(source, path, f"string keys, got {k!r}")
            out[k] = decode_value(x, vh, dataclasses.MISSING, source, _join(path, k))
        return out
    if origin in (list, tuple) or hint in (list, tuple) or (hint is Any and isinstance(default, list | tuple)):
        if not isinstance(v, list | tuple):
            raise InputError(source, path, f"a list, got {type(v).__name__}")
        eh = args[0] if args and not (origin is tuple and len(args) != 2) else Any
        if origin is tuple and args and (len(args) != 2 or args[1] is not Ellipsis):
            if len(v) != len(args):
                raise InputError(source, path, f"a list of {len(args)} items, got {len(v)}")
            return tuple(
                decode_value(x, a, dataclasses.MISSING, source, f"{path}[{i}]") for i, (x, a) in enumerate(zip(v, args, strict=True))
            )
        items = [decode_value(x, eh, dataclasses.MISSING, source, f"{path}[{i}]") for i, x in enumerate(v)]
        return tuple(items) if origin is tuple or hint is tuple else items
    # untyped: accept plain data, reject non-finite floats
    _check_plain(v, source, path)
    return v


def _check_plain(v: Any, source: str, path: str) -> None:
    if isinstance(v, float) and not math.isfinite(v):
        raise InputError(source, path, f"a finite number, got {v!r}")
    if isinstance(v, dict):
        for k, x in v.items():
            _check_plain(x, source, _join(path, str(k)))
    elif isinstance(v, list | tuple):
        for i, x in enumerate(v):
            _check_plain(x, source, f"{path}[{i}]")
    elif not (v is None or isinstance(v, bool | int | float | str | bytes)):
        raise InputError(source, path, f"plain data, got {type(v).__name__}")


def _decode_array(v: Any, default: Any, source: str, path: str) -> np.ndarray:
    dtype = default.dtype if isinstance(default, np.ndarray) else np.float64
    shape = default.shape if isinstance(default, np.ndarray) else None
    if not isinstance(v, list | tuple):
        n = f"{shape[0]} numbers" if shape and len(shape) == 1 else "a list of numbers"
        raise InputError(source, path, f"{n}, got {type(v).__name__}")
    if shape is not None and len(shape) == 1:
        if len(v) != shape[0]:
            raise InputError(source, path, f"{shape[0]} numbers, got {len(v)}")
    flat: list[tuple[str, Any]] = []

    def walk(x: Any, p: str) -> None:
        if isinstance(x, list | tuple):
            for i, y in enumerate(x):
                walk(y, f"{p}[{i}]")
        else:
            flat.append((p, x))

    walk(v, path)
    for p, x in flat:
        if not _is_number(x) or not math.isfinite(x):
            raise InputError(source, p, f"a finite number, got {x!r}")
    try:
        a = np.asarray(v, dtype=dtype)
    except (ValueError, OverflowError) as exc:
        raise InputError(source, path, f"a regular array of numbers ({exc})") from None
    if shape is not None and a.shape != shape and len(shape) > 1:
        raise InputError(source, path, f"an array of shape {list(shape)}, got {list(a.shape)}")
    return a
