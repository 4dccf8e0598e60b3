"""The CPU benchmark drives the real app in-process: every request it times must be a match answered
and logged, or its figure means nothing."""

from __future__ import annotations

import argparse

from sqlalchemy import create_engine, text

from tests.bench import bench_script
from tests.helpers import run_coroutine


def test_every_request_timed_is_a_logged_match(tmp_path) -> None:
    bench = bench_script("cpu")
    args = argparse.Namespace(requests=32, concurrency=4)
    cpu_seconds = run_coroutine(bench.measure_service(tmp_path, bench.request_bodies(), args))
    assert cpu_seconds > 0
    engine = create_engine(f"sqlite:///{tmp_path}/bench.sqlite")
    with engine.connect() as connection:  # the warm-up's 300 and the 32 timed
        assert connection.execute(text("SELECT count(*) FROM decision")).scalar_one() == 300 + 32
    engine.dispose()
