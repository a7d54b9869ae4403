"""Text for explanations: compact numbers, sums, name ranges and activation formulas."""

from __future__ import annotations

import math
import re

import numpy as np

from core.activations import Activation

MAX_TERMS = 8  # longer sums show their first terms, "…", and their last term


def number(value: float) -> str:
    """Format a number compactly: 22, -0.333333, 1.5e-7, 2.3e12, nan.

    Six significant digits, no ".0" on integers and no padding in exponents,
    as tui.formatting.format_number writes numbers without a width.
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0.0:
        return "0"
    text = f"{value:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def operand(value: float) -> str:
    """Format a number that follows an operator: negative numbers go in parentheses."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def join_terms(terms: list[str], separator: str = " + ") -> str:
    """Join the terms of a sum, eliding the middle of a long one."""
    if len(terms) <= MAX_TERMS:
        return separator.join(terms)
    head = separator.join(terms[: MAX_TERMS - 2])
    return f"{head}{separator}…{separator}{terms[-1]}"


_NUMBERED = re.compile(r"^(.*?\D)(\d+)(\)?)$")  # "w12" and "z(u12)": stem, number, closing bracket


def compress_names(names: list[str]) -> str:
    """Write runs of consecutively numbered names as ranges: x1..x3, w1..w12, z(u1)..z(u4)."""
    parts: list[str] = []
    run: list[tuple[str, str, int]] = []  # (name, stem and bracket, number)

    def flush() -> None:
        if len(run) > 2:
            parts.append(f"{run[0][0]}..{run[-1][0]}")
        else:
            parts.extend(name for name, _, _ in run)
        run.clear()

    for name in names:
        match = _NUMBERED.match(name)
        if match is None:
            flush()
            parts.append(name)
            continue
        key, count = match.group(1) + match.group(3), int(match.group(2))
        if not run or run[-1][1] != key or run[-1][2] + 1 != count:
            flush()
        run.append((name, key, count))
    flush()
    return ", ".join(parts)


def activation_line(neuron: str, activation: Activation, z: float, a: float) -> str:
    """'u1 = σ(z) = 1 / (1 + e^-z) = 1 / (1 + e^-0.5) = 0.622459' for one neuron."""
    rule = activation.formula.removeprefix("a = ")
    if activation.name == "sigmoid":
        substituted = f"1 / (1 + e^{number(-z)})"
    elif activation.name == "tanh":
        substituted = f"tanh({number(z)})"
    elif activation.name == "relu":
        substituted = f"max({number(z)}, 0)"
    elif activation.name == "leaky_relu":
        if z > 0:
            return f"{neuron} = {rule} = {number(a)} because z = {number(z)} > 0"
        substituted = f"{activation.negative_slope:g}·{operand(z)}"
    else:
        return f"{neuron} = z = {number(a)}"
    return f"{neuron} = {rule} = {substituted} = {number(a)}"


def derivative_line(activation: Activation, z: float, a: float) -> tuple[str, str]:
    """Return f'(z) for one neuron as a formula line with numbers, and its symbol (σ'(z), ...)."""
    symbol, _, rule = activation.derivative_formula.partition(" = ")
    derivative = float(activation.derivative(np.array([z]), np.array([a]))[0])
    if activation.name == "sigmoid":
        substituted = f"{number(a)}·(1 - {operand(a)})"
    elif activation.name == "tanh":
        substituted = f"1 - {operand(a)}²"
    elif activation.name in ("relu", "leaky_relu"):
        comparison = ">" if z > 0 else "≤"
        return f"{symbol} = {number(derivative)} because z = {number(z)} {comparison} 0", symbol
    else:
        return f"{symbol} = 1", symbol
    return f"{symbol} = {rule} = {substituted} = {number(derivative)}", symbol


