"""Find the scenarios that ship with the package."""

from __future__ import annotations

from pathlib import Path

from core.errors import ScenarioNotFoundError


def bundled_directory() -> Path:
    """Return the folder of bundled scenarios: inside the installed package, else the source tree's."""
    installed = Path(__file__).resolve().parent / "scenarios"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "scenarios"


def bundled_scenarios() -> list[Path]:
    """List every bundled scenario file, the lecture's examples first, then by name."""
    files = sorted(bundled_directory().glob("*.toml"))
    lecture = [path for path in files if path.stem in ("example1", "example2", "example3")]
    return lecture + [path for path in files if path not in lecture]


def resolve_scenario(argument: str) -> Path:
    """Return the file `argument` names: a path, or a bundled scenario's name such as example3."""
    path = Path(argument)
    if path.exists() or "/" in argument:
        return path
    if path.suffix == ".toml":
        bundled = [candidate for candidate in bundled_scenarios() if candidate.name == argument]
        if bundled:
            raise ScenarioNotFoundError(
                argument, "", "", f"file not found; to open the bundled scenario, write {path.stem}"
            )
        return path
    for candidate in bundled_scenarios():
        if candidate.stem == argument:
            return candidate
    names = ", ".join(candidate.stem for candidate in bundled_scenarios())
    raise ScenarioNotFoundError(
        argument, "", "", f"no such file, and no bundled scenario has that name (bundled: {names})"
    )
