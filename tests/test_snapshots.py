"""Snapshot tests of the main screens: example 3 at 80×24 (the minimum size), the picker and one wide layout.

Regenerate the baselines with `pytest tests/test_snapshots.py --snapshot-update`
and review the SVG files in tests/__snapshots__ before committing them.
"""

from __future__ import annotations

SIZE = (80, 24)


def test_start(snap_compare, make_app):
    """Iteration 0 before any step: parameters shown, values and gradients still ·, diagram focused."""
    assert snap_compare(make_app("example3"), terminal_size=SIZE)


def test_after_forward_pass(snap_compare, make_app):
    """After f: u = (22, 3, 7), ŷ = (12, 7), L = 130, status on [LOSS]."""
    assert snap_compare(make_app("example3"), press=["f"], terminal_size=SIZE)


def test_mid_backward_pass(snap_compare, make_app):
    """After f, n, n: dL/dŷ = (22, 6) and the output layer's gradients, dL/dw7 = 484; status on [BACKWARD]."""
    assert snap_compare(make_app("example3"), press=["f", "n", "n"], terminal_size=SIZE)


def test_after_update(snap_compare, make_app):
    """After u: the update is applied, w1 new = 3.9904, status on [UPDATE]."""
    assert snap_compare(make_app("example3"), press=["u"], terminal_size=SIZE)


def test_help_screen(snap_compare, make_app):
    """After ?: the help screen over the panels, listing keys from the registry."""
    assert snap_compare(make_app("example3"), press=["question_mark"], terminal_size=SIZE)


def test_too_small(snap_compare, make_app):
    """At 40×12: only the notice "Terminal too small: need at least 80×24, have 40×12"."""
    assert snap_compare(make_app("example3"), terminal_size=(40, 12))


def test_picker(snap_compare, make_app):
    """Without a scenario: the picker lists the bundled scenarios with title and description."""
    assert snap_compare(make_app(None), terminal_size=SIZE)


def test_wide_after_backward_pass(snap_compare, make_app):
    """At 120×40 after g: the tables side by side, every gradient of iteration 0 filled in."""
    assert snap_compare(make_app("example3"), press=["g"], terminal_size=(120, 40))
