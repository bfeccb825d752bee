"""Typer's option coercion without pydantic for the plain values evidence's options take.

Typer 0.2x converts every option through a pydantic TypeAdapter, built for each option of the
command run whether it was given or not: importing pydantic and building the adapters is 0.1 s
of every run's start-up. Here a plain string, a list of strings, a choice and a path are
converted the way typer's own adapters convert them (the same typer functions, minus pydantic);
anything else — a number, an unexpected value — goes to typer's own coercion, built when first
needed, so every answer and error message stays typer's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

_SLOW = object()  # "not a value the quick path handles": typer's own coercion decides


def install() -> None:
    """Put the quick path in front of typer's coercion (a no-op with other typer versions)."""
    try:
        from typer import _coercion, _param_types, core
    except ImportError:  # pragma: no cover - typer without pydantic coercion
        return
    original: Any = getattr(core, "build_runtime_param", None)
    runtime_param: Any = getattr(_coercion, "RuntimeParam", None)
    if original is None or runtime_param is None or getattr(original, "quick", False):
        return

    @dataclass(frozen=True)
    class QuickRuntimeParam(runtime_param):  # type: ignore[misc,unused-ignore]
        descriptor: Any = None
        built: list[Any] = field(default_factory=list)

        def _real(self) -> Any:
            if not self.built:
                self.built.append(original(self.descriptor))
            return self.built[0]

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            quick = _quick(self.descriptor, value, param, ctx, _param_types)
            if quick is _SLOW:
                return self._real()._coerce_value(value, param=param, ctx=ctx)
            return quick

    def build(descriptor: Any) -> Any:
        if descriptor.file_annotation is not None:
            return original(descriptor)
        return QuickRuntimeParam(parameter_info=descriptor.parameter_info,
                                 annotation=descriptor.annotation, descriptor=descriptor)

    build.quick = True  # type: ignore[attr-defined]
    setattr(core, "build_runtime_param", build)  # noqa: B010 - not a name typer exports


def _quick(descriptor: Any, value: Any, param: Any, ctx: Any, types: Any) -> Any:
    annotation = descriptor.annotation
    info = descriptor.parameter_info
    if info.parser is not None:
        return _SLOW
    if getattr(annotation, "__origin__", None) is list:
        (item,) = getattr(annotation, "__args__", (None,))
        if item is str and isinstance(value, list | tuple) and all(
                isinstance(v, str) for v in value):
            return list(value)
        return _SLOW
    if annotation is str:
        return value if isinstance(value, str) else _SLOW
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return types.coerce_cli_choice(value, choices=list(annotation),
                                           case_sensitive=info.case_sensitive, ctx=ctx)
        except ValueError:
            return _SLOW  # typer's adapter words the error
    if annotation is Path and info.path_type is None and isinstance(value, str) and value:
        # typer's path adapter turns the string into a Path (with pydantic), then checks it.
        return types.coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
    return _SLOW
