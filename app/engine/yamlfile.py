"""Strict YAML reading for rule files: duplicate keys rejected, YAML 1.2 booleans, line numbers kept."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import RuleFileError

Path_ = tuple[str | int, ...]


# libyaml's parser when PyYAML has it (ten times faster on large rule sets); the construction, and so
# the duplicate-key and boolean rules below, stay in Python either way.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A rule file nests about eight levels; Python's recursion limit is reached near a thousand.
MAX_DEPTH = 64
MAX_INTEGER_DIGITS = 40


class StrictLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that refuses duplicate keys and reads only true/false as booleans (not yes/no/on/off)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key]})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    # PyYAML raises a bare ValueError for a date that does not exist (2024-02-30, 0000-00-00) and for an
    # integer past Python's 4,300 digits: reported here with the line, like every other YAML error.
    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > MAX_INTEGER_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of more than {MAX_INTEGER_DIGITS} digits", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, f"not a date: {exc}", node.start_mark) from None


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp)
StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)




def _refuse_aliases_and_depth(node: yaml.Node, path: str) -> None:
    """Refuse an alias (`*name`, `<<: *name`) and nesting past MAX_DEPTH, before anything is built.

    An alias is the node it names, composed once: a few hundred bytes of aliases of aliases expand to
    millions of items when constructed (seconds and hundreds of MB per level). Rule files need none: a
    node met twice in this walk (which visits each node once) is an alias, refused at its anchor's line."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if id(current) in seen:
            raise RuleFileError(path, current.start_mark.line + 1,
                                "invalid YAML: aliases (*name) are not allowed in rule files")
        seen.add(id(current))
        if depth > MAX_DEPTH:
            raise RuleFileError(path, current.start_mark.line + 1,
                                f"invalid YAML: nested deeper than {MAX_DEPTH} levels")
        if isinstance(current, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in current.value for child in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in current.value)


def load_yaml(text: str, path: str) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document; return the data and the line of every key and item, by path."""
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()  # parsed once: the node tree gives both the data and the lines
        if node is not None:
            _refuse_aliases_and_depth(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RuleFileError(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return data, lines


def _record_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


def line_of(lines: dict[Path_, int], loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest known prefix of a location (a pydantic error `loc`)."""
    for end in range(len(loc), -1, -1):
        key = tuple(loc[:end])
        if key in lines:
            return lines[key]
    return None
