"""YAML that remembers the line of every value, so a configuration error can name its line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import yaml
from pydantic import ValidationError

Path = tuple[str | int, ...]


class Located:
    """Parsed YAML data and the 1-based line where each path's value starts."""

    def __init__(self, data: Any, lines: dict[Path, int]) -> None:
        self.data = data
        self._lines = lines

    def line(self, path: Sequence[str | int]) -> int | None:
        """Return the line of ``path``, or of its nearest ancestor the YAML wrote."""
        probe = tuple(path)
        while probe:
            if probe in self._lines:
                return self._lines[probe]
            probe = probe[:-1]
        return self._lines.get((), None)


def parse(text: str) -> Located:
    """Parse ``text``; raise ``yaml.YAMLError`` (which carries its own line) if it is not YAML."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[Path, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return Located(yaml.safe_load(text), lines)


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def dotted(path: Sequence[str | int]) -> str:
    """Return ``path`` as people read it, e.g. ``rules[3].unit``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def describe(
    problems: Iterable[tuple[Sequence[str | int], str]], *, source: str, located: Located | None
) -> str:
    """Return one line per problem: where (file, line, path) and why."""
    out = []
    for path, reason in problems:
        line = located.line(path) if located is not None else None
        where = f"{source} line {line}" if line is not None else source
        out.append(f"{where}: {dotted(path)}: {reason}")
    return "\n".join(out)


def validation_problems(
    error: ValidationError, *, prefix: Sequence[str | int] = ()
) -> list[tuple[Path, str]]:
    """Return a pydantic error as (path, reason) pairs, paths relative to the YAML root."""
    problems: list[tuple[Path, str]] = []
    for item in error.errors():
        # pydantic names tagged-union and function validators in the path; YAML has no such keys.
        path = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p))
        reason = item["msg"].removeprefix("Value error, ")
        problems.append(((*prefix, *path), reason))
    return problems
