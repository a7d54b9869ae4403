"""Exception types raised by the engine."""

from __future__ import annotations


class ScenarioError(Exception):
    """A scenario file that cannot be used.

    The message is one line: the file, the key or position, what was expected
    and what was found. Line breaks and other control characters in any part
    are replaced by spaces, so a message always fits one line of a terminal.
    """

    def __init__(self, source: str, location: str, expected: str, found: str) -> None:
        self.source = _one_line(source)
        self.location = _one_line(location)
        self.expected = _one_line(expected)
        self.found = _one_line(found)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.source}: {self.location}" if self.location else self.source
        if self.expected:
            return f"{where}: expected {self.expected}, found {self.found}"
        return f"{where}: {self.found}"


class ScenarioNotFoundError(ScenarioError):
    """A scenario argument that names neither a file nor a bundled scenario."""


def _one_line(text: str) -> str:
    return "".join(" " if character < " " or character == "\x7f" else character for character in text)
