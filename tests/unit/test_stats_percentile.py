"""Exact percentiles (DESIGN.md §5 "Latency"): median and p90, numpy's 'linear' method."""

import random
from fractions import Fraction

import pytest

from radar.stats import percentile


def reference(values, q):
    """numpy.percentile(values, 100 * q, method='linear') in exact arithmetic."""
    xs = sorted(Fraction(v) for v in values)
    h = Fraction(q) * (len(xs) - 1)
    lo = int(h)
    if lo + 1 >= len(xs):
        return float(xs[lo])
    return float(xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo]))


def test_empty_is_none():
    assert percentile.median([]) is None
    assert percentile.p90([]) is None


def test_single_value():
    assert percentile.median([42]) == 42.0
    assert percentile.p90([42]) == 42.0


def test_odd_count_median_is_the_middle_value():
    assert percentile.median([1, 2, 10]) == 2.0
    assert percentile.median([600, 900, 1100, 1500, 1800]) == 1100.0


def test_even_count_median_is_the_mean_of_the_two_middle_values():
    assert percentile.median([1, 2, 3, 10]) == 2.5
    assert percentile.median([600, 900, 1100, 1200, 1500, 1800]) == 1150.0


def test_p90_interpolates_between_closest_ranks():
    # n = 5: rank 3.6 -> x3 + 0.6 * (x4 - x3)
    assert percentile.p90([600, 900, 1100, 1500, 1800]) == 1680.0
    # n = 6: rank 4.5
    assert percentile.p90([600, 900, 1100, 1200, 1500, 1800]) == 1650.0
    # n = 11: rank exactly 9.0 (no float drift into the next rank)
    assert percentile.p90(list(range(11))) == 9.0
    # n = 2: rank 0.9
    assert percentile.p90([0, 10]) == 9.0


def test_p90_is_exact_where_floats_drift():
    values = [0.1, 0.2, 0.3]
    # rank 1.8: 0.2 + 0.8 * 0.1 = 0.28 computed exactly, rounded once
    assert percentile.p90(values) == float(Fraction(0.2) + Fraction(4, 5) * (
        Fraction(0.3) - Fraction(0.2)))


@pytest.mark.parametrize("seed", range(20))
def test_matches_numpy_linear_definition(seed):
    rng = random.Random(seed)
    values = sorted(rng.uniform(0, 5000) for _ in range(rng.randint(1, 60)))
    assert percentile.median(values) == reference(values, Fraction(1, 2))
    assert percentile.p90(values) == reference(values, Fraction(9, 10))
    assert percentile.percentile(values, 0) == values[0]
    assert percentile.percentile(values, 1) == values[-1]


def test_quantile_out_of_range():
    with pytest.raises(ValueError):
        percentile.percentile([1, 2], 1.5)


def test_merge_sorted_lists_gives_the_same_percentiles():
    days = [[100, 300, 900], [], [50, 400], [1200]]
    merged = percentile.merge_sorted(days)
    assert merged == [50, 100, 300, 400, 900, 1200]
    assert percentile.median(merged) == 350.0
    assert percentile.merge_sorted([]) == []
    assert percentile.merge_sorted([[1, 2]]) == [1, 2]


def test_median_of_unsorted_ignores_none():
    assert percentile.median_of([3, None, 1, 2]) == 2.0
    assert percentile.median_of([None]) is None
