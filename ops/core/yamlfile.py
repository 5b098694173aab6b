"""YAML input: parse errors become one line naming the file and line, in the caller's error class."""
from __future__ import annotations

import yaml


def parse_yaml(text: str, source: str, error: type[Exception]):
    """The parsed document, or `error` raised with '<source>: line N: not valid YAML (<problem>)'."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" line {line + 1}:" if line is not None else ""
        raise error(f"{source}:{where} not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
