"""Argument checks shared by the modules: one clear TypeError or ValueError, raised before any work."""
from __future__ import annotations

import numbers


def check_int(name: str, value, minimum: int) -> int:
    """`value` as an int, if it is an integer (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)
