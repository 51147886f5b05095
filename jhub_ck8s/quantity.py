"""Kubernetes resource quantities (``10m``, ``0.5``, ``512Mi``, ``1e3``) as exact numbers.

Guarantees: ``parse`` accepts exactly the grammar of ``k8s.io/apimachinery``'s
``resource.Quantity`` (sign, digits with optional fraction, then one binary-SI suffix
``Ki..Ei``, decimal-SI suffix ``n u m k M G T P E`` or exponent ``e3``/``E-2``) and
returns the value as an exact ``Quantity`` in base units (cores, bytes), so quantities
compare exactly (with each other, ints and Fractions): ``parse("1Gi") > parse("1G")``, ``parse("500m") == parse("0.5")``. YAML
numbers (``cpu: 1``, ``cpu: 0.5``) are accepted as their text. Anything else raises
``QuantityError`` (a ``ValueError``) that quotes the bad text and shows valid examples;
an exponent beyond ±``MAX_EXPONENT`` raises ``QuantityRangeError`` at once, without
computing the power (so ``1e999999999`` never hangs a run).

Example::

    >>> parse("512Mi")
    Quantity(536870912, 1)
    >>> parse("10m")
    Quantity(1, 100)
"""

from __future__ import annotations

import re

__all__ = ["Quantity", "QuantityError", "QuantityRangeError", "parse", "try_parse"]

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# "1E" is exa, "1E3" is an exponent: the exponent branch needs digits, so try it first.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)\Z"
)
_EXAMPLES = "expected a Kubernetes quantity such as 500m, 0.5, 1, 512Mi, 1Gi or 1e3"


# Kubernetes' own suffixes span 1e-9 (n) to 1e18 (E). Beyond this power of ten no
# resource is meant, and exact arithmetic on it would take minutes (1e999999999).
MAX_EXPONENT = 100


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity."""


class QuantityRangeError(QuantityError):
    """A quantity written with an absurd exponent (``1e999999999``): refused before any arithmetic."""


class Quantity:
    """An exact quantity, ``numerator / denominator`` in base units, ordered like a number.

    Compares with ints, Fractions and other Quantities. It exists instead of ``Fraction``
    because the ``fractions`` module imports ``decimal``, which costs the post-renderer
    more at every start than all its quantity arithmetic.
    """

    __slots__ = ("denominator", "numerator")

    def __init__(self, numerator: int, denominator: int = 1) -> None:
        from math import gcd

        common = gcd(numerator, denominator) or 1
        self.numerator = numerator // common
        self.denominator = denominator // common

    @staticmethod
    def _pair(other: object) -> tuple[int, int] | None:
        if isinstance(other, bool):
            return None
        if isinstance(other, int):
            return other, 1
        numerator, denominator = getattr(other, "numerator", None), getattr(other, "denominator", None)
        if isinstance(numerator, int) and isinstance(denominator, int) and denominator > 0:
            return numerator, denominator
        return None

    def _compare(self, other: object) -> int | None:
        pair = self._pair(other)
        if pair is None:
            return None
        left, right = self.numerator * pair[1], pair[0] * self.denominator
        return (left > right) - (left < right)

    def __eq__(self, other: object) -> bool:
        order = self._compare(other)
        return NotImplemented if order is None else order == 0

    def __lt__(self, other: object) -> bool:
        order = self._compare(other)
        return NotImplemented if order is None else order < 0

    def __le__(self, other: object) -> bool:
        order = self._compare(other)
        return NotImplemented if order is None else order <= 0

    def __gt__(self, other: object) -> bool:
        order = self._compare(other)
        return NotImplemented if order is None else order > 0

    def __ge__(self, other: object) -> bool:
        order = self._compare(other)
        return NotImplemented if order is None else order >= 0

    def __hash__(self) -> int:
        return hash((self.numerator, self.denominator)) if self.denominator != 1 else hash(self.numerator)

    def __repr__(self) -> str:
        return f"Quantity({self.numerator}, {self.denominator})"


def parse(value: object) -> Quantity:
    """The quantity's exact value in base units; QuantityError if it is not a quantity."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise QuantityError(f"{value!r} is not a quantity: {_EXAMPLES}")
    # repr of a float is its shortest exact-enough text ("0.5", "1e-05"), as YAML wrote it
    text = repr(value) if isinstance(value, float) else str(value)
    match = _QUANTITY.match(text.strip()) if text == text.strip() else None
    if match is None:
        raise QuantityError(f"{text!r} is not a quantity: {_EXAMPLES}")
    whole, _dot, decimals = match.group("number").partition(".")
    numerator, scale = int(whole + decimals or "0"), len(decimals)  # value = numerator / 10**scale
    if match.group("exponent"):
        exponent = match.group("exponent")[1:]
        # The digit count bounds the value before int() converts it (itself slow on huge texts).
        if len(exponent.lstrip("+-").lstrip("0")) > 3 or abs(int(exponent)) > MAX_EXPONENT:
            raise QuantityRangeError(f"{text!r} is out of range: exponents beyond ±{MAX_EXPONENT} are not quantities")
        power = int(exponent) - scale
    else:
        suffix = match.group("suffix") or ""
        if suffix in _BINARY:
            numerator *= 1024 ** _BINARY[suffix]
            power = -scale
        else:
            power = _DECIMAL[suffix] - scale
    return Quantity(numerator * 10**power) if power >= 0 else Quantity(numerator, 10**-power)


def try_parse(value: object) -> Quantity | None:
    """Like ``parse``, but None instead of an exception."""
    try:
        return parse(value)
    except QuantityError:
        return None
