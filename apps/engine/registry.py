"""One registry for plug-ins: kind → dotted path of a class, imported on first use.

Providers, scorers and planners each keep one `Registry`; adding a plug-in is a new module plus
one line in its registry. `choices()` feeds Django model and serializer choices, so a model field
never repeats a registry by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownKind(ValueError):
    """A kind the registry does not know; the message lists the known kinds."""

    def __init__(self, message: str, *, kind: object) -> None:
        super().__init__(message)
        self.kind = kind


class Registry(Generic[T]):
    """Kinds in registration order, each a dotted path (optionally with a label for choices)."""

    def __init__(self, noun: str, entries: dict[str, str | tuple[str, str]], *, sort_known: bool = False) -> None:
        self.noun = noun
        self._paths = {kind: entry if isinstance(entry, str) else entry[0] for kind, entry in entries.items()}
        self._labels = {kind: entry[1] for kind, entry in entries.items() if not isinstance(entry, str)}
        self._loaded: dict[str, type[T]] = {}
        self._sort_known = sort_known

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, str) and kind in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def kinds(self) -> tuple[str, ...]:
        return tuple(self._paths)

    def label(self, kind: str) -> str:
        return self._labels.get(kind) or kind.replace("_", " ").capitalize()

    def choices(self) -> list[tuple[str, str]]:
        """(kind, label) pairs, for `choices=` on model and serializer fields."""
        return [(kind, self.label(kind)) for kind in self._paths]

    def unknown_message(self, kind: object) -> str:
        known = sorted(self._paths) if self._sort_known else list(self._paths)
        return f"unknown {self.noun} '{kind}' (known: {', '.join(known)})"

    def get(self, kind: str) -> type[T]:
        """The class registered for `kind`, imported on first use; UnknownKind otherwise."""
        if kind not in self:
            raise UnknownKind(self.unknown_message(kind), kind=kind)
        if kind not in self._loaded:
            module, _, name = self._paths[kind].rpartition(".")
            self._loaded[kind] = getattr(import_module(module), name)
        return self._loaded[kind]

    def classes(self) -> Iterator[type[T]]:
        return (self.get(kind) for kind in self._paths)
