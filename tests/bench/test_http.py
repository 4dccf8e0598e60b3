"""The HTTP benchmark's CPU budget: what a request may cost the server for a throughput to fit."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from tests.bench import bench_script

cpu_budget = bench_script("http").cpu_budget


@given(rps=st.floats(100, 50_000), server_share=st.floats(0.0, 1.0))
def test_the_budget_is_what_the_server_used_at_the_measured_rate_and_half_a_request_less_at_twice_it(
        rps: float, server_share: float) -> None:
    # A saturated run: every core busy, each request costing the server its share and wrk and the kernel
    # the rest, which does not shrink when the server's code gets faster.
    per_request_ms = (os.cpu_count() or 1) * 1000 / rps
    stats = {"rps": rps, "cpu_ms": per_request_ms * server_share}
    tolerance = 1e-9 * per_request_ms
    assert abs(cpu_budget(stats, rps) - stats["cpu_ms"]) <= tolerance
    assert abs(cpu_budget(stats, 2 * rps) - (stats["cpu_ms"] - per_request_ms / 2)) <= tolerance
