"""jhub_ck8s.quantity: Kubernetes quantities parse to exact, comparable numbers."""

from __future__ import annotations

from fractions import Fraction

import pytest

from jhub_ck8s.quantity import QuantityError, parse, try_parse


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10m", Fraction(1, 100)),
        ("500m", Fraction(1, 2)),
        ("0.5", Fraction(1, 2)),
        (".5", Fraction(1, 2)),
        ("1.", Fraction(1)),
        ("1", Fraction(1)),
        ("+2", Fraction(2)),
        ("100n", Fraction(1, 10**7)),
        ("5u", Fraction(5, 10**6)),
        ("512Mi", Fraction(512 * 2**20)),
        ("2Gi", Fraction(2 * 2**30)),
        ("1.5Gi", Fraction(3 * 2**29)),
        ("1Ki", Fraction(1024)),
        ("1Ei", Fraction(2**60)),
        ("1k", Fraction(1000)),
        ("1G", Fraction(10**9)),
        ("1E", Fraction(10**18)),  # exa, not an exponent
        ("1e3", Fraction(1000)),
        ("1E3", Fraction(1000)),
        ("1e+3", Fraction(1000)),
        ("25e-2", Fraction(1, 4)),
        (1, Fraction(1)),
        (0.5, Fraction(1, 2)),
        (0, Fraction(0)),
    ],
)
def test_valid_quantities(text: object, value: Fraction) -> None:
    assert parse(text) == value


@pytest.mark.parametrize(
    "text",
    ["", " 1", "1 ", "1.5.5", "Gi", "1gi", "1GB", "1Mib", "1e", "1e1.5", "m", "abc", "1_000",
     "--1", "0x10", "inf", "nan", float("inf"), float("nan"), True, None, [], {"cpu": 1}],
)
def test_invalid_quantities(text: object) -> None:
    with pytest.raises(QuantityError) as info:
        parse(text)
    assert isinstance(info.value, ValueError)
    assert "512Mi" in str(info.value)  # the message shows what a valid one looks like
    assert try_parse(text) is None


def test_units_compare_exactly() -> None:
    assert parse("1Gi") > parse("1G")
    assert parse("1000m") == parse("1") == parse(1)
    assert parse("1024Mi") == parse("1Gi")
    assert parse("1e9") == parse("1G")
    assert parse("999m") < parse("1")


def test_message_quotes_the_bad_text() -> None:
    with pytest.raises(QuantityError, match="'2 cores'"):
        parse("2 cores")


@pytest.mark.parametrize("text", ["1e999999999", "1e-999999999", "-1e101", "1E+0000000000000000000000000000000000101"])
def test_absurd_exponents_are_refused_at_once(text):
    from jhub_ck8s.quantity import QuantityRangeError

    with pytest.raises(QuantityRangeError, match="out of range"):
        parse(text)


def test_exponents_within_range_are_exact():
    assert parse("1e100") == 10**100 and parse("1e-100") == Fraction(1, 10**100)
    assert parse("1e0000000000000000000000000005") == 100000
