"""YAML with line numbers: a safe, alias-free load that remembers where each value came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path_ = tuple[str | int, ...]


class FileError(Exception):
    """A problem with a file the user gave, at a line when known."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file, self.line, self.message = file, line, message
        super().__init__(self.where() + ": " + message)

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases: a few lines must not expand into gigabytes."""

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


@dataclass
class Located:
    """A loaded document and the line (1-based) of every value in it, keyed by path from the root."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that the file has (a missing key's parent)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def load_text(text: str, *, file: str) -> Located:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(file=file, data=None)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise FileError(file, mark.line + 1 if mark else None, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise FileError(file, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    _walk(loader, node, (), lines)
    return Located(file=file, data=data, lines=lines)


def load_file(path: Path, *, name: str | None = None) -> Located:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(name or str(path), None, f"cannot read: {exc}") from None
    return load_text(text, file=name or str(path))


def _walk(loader: _Loader, node: Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else str(key_node.start_mark)
            child = (*path, key)
            _walk(loader, value_node, child, lines)
            if isinstance(value_node, (MappingNode, SequenceNode)) and value_node.start_mark.line != \
                    key_node.start_mark.line and not value_node.flow_style:
                # A block collection starts on the line after its key: point at the key.
                lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _walk(loader, item, (*path, index), lines)


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    """YAML a person can read and edit: keys in the given order, multi-line text as blocks."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
