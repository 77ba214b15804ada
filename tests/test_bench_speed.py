"""bench/speed.py's per-round ratios: each round's fast process against the reference process run
just before it, and their median."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bench'))
from speed import round_ratios  # noqa: E402


def test_each_round_pairs_its_own_processes():
    # round 2 ran while the machine was slow: both paths took longer, their ratio stayed
    ref = {'seconds': 20.0, 'rounds': [20.0, 30.0, 21.0]}
    fast = {'seconds': 11.0, 'rounds': [11.0, 16.5, 12.6]}
    pairs, median = round_ratios(ref, fast)
    assert [round(p, 3) for p in pairs] == [0.55, 0.55, 0.6]
    assert round(median, 3) == 0.55


def test_even_rounds_take_the_middle_pair_mean():
    pairs, median = round_ratios({'rounds': [10.0, 10.0]}, {'rounds': [5.0, 7.0]})
    assert pairs == [0.5, 0.7]
    assert abs(median - 0.6) < 1e-12


def test_results_without_rounds_have_no_pairs():
    assert round_ratios({'seconds': 1.0}, {'seconds': 0.5}) == ([], None)
