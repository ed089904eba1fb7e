"""The instruction counter (``python -m bench.instructions``) counts real fan-outs."""

from __future__ import annotations

from bench.instructions import count, per_delivery


def test_only_the_fan_outs_are_counted_and_knock_counts_above_the_floor() -> None:
    # Set-up, Knock's modules imported, would be billions of instructions; not counted,
    # a driver that fans nothing out counts only its exit.
    assert count("floor", 0) < 1_000_000_000
    floor = per_delivery("floor", 20)
    knock = per_delivery("knock", 20)
    # A write of the floor's loop is a few hundred instructions; Knock's delivery does more
    # (its checks, the write batch) but stays within the same order of magnitude.
    assert 100 < floor < 2_000
    assert floor < knock < 20 * floor
