"""Shared helpers for the tests."""

from __future__ import annotations

from pathlib import Path

from core.engine import Session
from core.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def lecture_session(name: str) -> Session:
    """A fresh session on one of the bundled scenarios, by file stem."""
    return Session(load_scenario(SCENARIOS / f"{name}.toml"))


def _pick(session: Session, name: str, weights: tuple, biases: tuple) -> float:
    ref = session.names.parameters[name]
    if ref.kind == "weights":
        return float(weights[ref.layer][ref.row, ref.column])
    return float(biases[ref.layer][ref.row])


def parameter_value(session: Session, name: str) -> float:
    """Return the current value of a parameter named as in the lecture (w1, b4)."""
    return _pick(session, name, session.current.weights, session.current.biases)


def parameter_gradient(session: Session, name: str) -> float:
    """Return dL/d(name) in the current iteration; the backward pass must have reached it."""
    return _pick(session, name, session.current.grad_w, session.current.grad_b)
