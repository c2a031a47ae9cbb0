"""Exact percentiles over sorted lists (DESIGN.md §5 "Latency").

The median is the mean of the two middle values for an even count; p90
interpolates linearly between the closest ranks (numpy's 'linear' method:
rank h = (n - 1) * q, value x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h])).
Ranks are computed with fractions so that no float rounding moves a rank;
the result is rounded to a float once.
"""

import itertools
from fractions import Fraction


def merge_sorted(lists):
    """One sorted list from several sorted lists (rollup days, edge days)."""
    lists = [lst for lst in lists if lst]
    if not lists:
        return []
    if len(lists) == 1:
        return list(lists[0])
    # Timsort merges the sorted runs; in C, several times faster than heapq.merge.
    return sorted(itertools.chain.from_iterable(lists))


def percentile(sorted_values, q):
    """The q-quantile (0 <= q <= 1, a float or Fraction) of a sorted list; None if empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    q = Fraction(q) if not isinstance(q, float) else Fraction(str(q))
    if not 0 <= q <= 1:
        raise ValueError("quantile must be within [0, 1], got %s" % q)
    rank = q * (n - 1)
    lo = rank.numerator // rank.denominator
    frac = rank - lo
    low = sorted_values[lo]
    if frac == 0 or lo + 1 >= n:
        return float(low)
    high = sorted_values[lo + 1]
    return float(Fraction(low) + frac * (Fraction(high) - Fraction(low)))


def median(sorted_values):
    """Middle value; the mean of the two middle values for an even count."""
    return percentile(sorted_values, Fraction(1, 2))


def p90(sorted_values):
    return percentile(sorted_values, Fraction(9, 10))


def median_of(values):
    """Median of unsorted values (None ignored)."""
    return median(sorted(v for v in values if v is not None))
