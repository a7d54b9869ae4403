"""Shared helpers for the tests."""

from __future__ import annotations

from pathlib import Path

from core.engine import Session
from core.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def lecture_session(name: str) -> Session:
    """A fresh session on one of the bundled scenarios, by file stem."""
    return Session(load_scenario(SCENARIOS / f"{name}.toml"))


def parameter_value(session: Session, name: str) -> float:
    """The current value of a parameter named as in the lecture (w1, b4)."""
    ref = session.names.parameters[name]
    snapshot = session.current
    if ref.kind == "weights":
        return float(snapshot.weights[ref.layer][ref.row, ref.column])
    return float(snapshot.biases[ref.layer][ref.row])


def parameter_gradient(session: Session, name: str) -> float:
    """dL/d(name) in the current iteration; the backward pass must have reached it."""
    ref = session.names.parameters[name]
    snapshot = session.current
    if ref.kind == "weights":
        return float(snapshot.grad_w[ref.layer][ref.row, ref.column])
    return float(snapshot.grad_b[ref.layer][ref.row])
