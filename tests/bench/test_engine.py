"""The engine benchmark's baseline must decide as the engine does, or its ratio means nothing: the
naive interpreter of bench/engine.py against the compiled engine, on its own synthetic rules."""

from __future__ import annotations

import random

from tests.bench import ROOT, bench_script


def test_the_naive_baseline_decides_every_synthetic_rule_as_the_engine_does() -> None:
    bench = bench_script("engine")
    places = bench.synthetic_places(bench.load_tables())
    profiles = bench.synthetic_profiles(200, random.Random(bench.SEED), places.counties, places.classes)
    rng = random.Random(bench.SEED + 300)
    files = bench.synthetic_rules(300, rng, bench.rule_regions(300, rng, places), places.divisions)
    sources = {"source-article.txt": (ROOT / "rules" / "sources" / "source-article.txt").read_text()}
    ruleset = bench.build_ruleset(files, sources=sources, display_dir="synthetic")
    for profile in profiles:
        compiled = {result.policy_id: result.status for result in bench.evaluate(ruleset, profile, as_of=bench.AS_OF).results}
        assert compiled == bench.naive_evaluate(ruleset, profile), profile
