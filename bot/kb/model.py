"""The knowledge base's entries as plain, immutable data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Fix:
    title: str
    steps: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class QA:
    q: str
    a: str
    also: tuple[str, ...] = ()  # other ways people ask the same question


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    system: str
    kind: str
    summary: str
    message: str = ""
    variants: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()
    faq: tuple[QA, ...] = ()
    links: tuple[Link, ...] = ()
    examples: tuple[str, ...] = ()
    describes: tuple[str, ...] = ()  # the error in people's own words, without its code or message
    template: str = ""
    checks: tuple[dict, ...] = ()
    example_lines: tuple[int, ...] = field(default=(), compare=False)
    describes_lines: tuple[int, ...] = field(default=(), compare=False)
    source: Path | None = field(default=None, compare=False)
    line: int = field(default=1, compare=False)

    @property
    def is_faq(self) -> bool:
        return self.kind == "faq"

    @property
    def messages(self) -> tuple[str, ...]:
        """Every wording of the error this entry documents."""
        return ((self.message,) if self.message else ()) + self.variants


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one KB file, located to the line."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def yaml_problem(path: Path, exc: Exception) -> Problem:
    """A YAML syntax error, located where the author has to fix it: an unclosed quote or bracket is only
    noticed at the end of the file, so it is reported at its opening line; anything else where it was
    found."""
    context, found = getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    opened = str(getattr(exc, "context", "") or "")
    if context and any(what in opened for what in ("quoted scalar", "flow sequence", "flow mapping")):
        where = f" at line {found.line + 1}" if found else ""
        return Problem(path, context.line + 1, f"malformed YAML: {opened.removeprefix('while ')}, which is not "
                                               f"closed ({reason}{where})")
    mark = found or context
    return Problem(path, mark.line + 1 if mark else 1, f"malformed YAML: {reason}")


def compose_yaml(path: Path, what: str):
    """(the file's YAML node tree, None), or (None, the problem that kept it from being read)."""
    import yaml

    try:
        return yaml.compose(path.read_text(encoding="utf-8")), None
    except OSError as exc:
        return None, Problem(path, 0, f"cannot read the {what} ({exc.strerror or exc})")
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, yaml_problem(path, exc)
