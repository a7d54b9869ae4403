"""Number formatting shared by the panels."""

from __future__ import annotations

import math

SIGNIFICANT_DIGITS = 6  # enough for the lecture's 3.9904 and 21.9552 to show in full


def format_number(value: float, width: int | None = None) -> str:
    """Format `value` compactly: 22, -124, 3.9904, 0.333333, 1.5e-7, 2.3e12, nan, inf, -inf.

    Integers show without ".0", and at most six significant digits are kept.
    With `width`, digits are dropped until the text fits in `width` characters.
    When no precision fits, the result is the shortest form, which is longer
    than `width`.
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"

    text = _general(value, SIGNIFICANT_DIGITS)
    if width is None or len(text) <= width:
        return text
    shortest = text
    for digits in range(SIGNIFICANT_DIGITS - 1, 0, -1):
        candidate = _general(value, digits)
        if len(candidate) <= width:
            return candidate
        if len(candidate) < len(shortest):
            shortest = candidate
    return shortest


def _general(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    if "e" in text:
        # 1.5e-07 -> 1.5e-7 and 2.3e+12 -> 2.3e12 save up to two characters.
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    if text in ("-0", "-0e0"):
        return "0"
    return text
