"""`make mutation`: mutmut over app/engine and app/registry/sql.py ([tool.mutmut] in pyproject.toml),
then the score, with the survivors reviewed as equivalent in tests/mutation_equivalents.yaml.

mutmut keeps its verdicts in mutants/ and tests again only the mutants of functions that changed. A
surviving mutant is tested again on every run too, so that a test added since can kill it. Prints the
counts and the score, then every survivor nobody has explained (`mutmut show NAME` gives its diff)
and every equivalence that no longer names a surviving mutant; exits 1 if there is any."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "tests" / "mutation_equivalents.yaml"
# mutmut's words for a mutant the tests noticed: failed, or ran past its time (an endless loop).
DETECTED = {"killed", "timeout", "caught by type check"}


def mutmut(*args: str, capture: bool = False) -> str:
    done = subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=ROOT, check=True, text=True,
                          stdout=subprocess.PIPE if capture else None)
    return done.stdout or ""


def verdicts() -> dict[str, str]:
    """Every mutant's verdict, as `mutmut results --all true` prints them ("    name: verdict")."""
    listing = mutmut("results", "--all", "true", capture=True)
    return dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)


def equivalents() -> dict[str, str]:
    return yaml.safe_load(EQUIVALENTS.read_text(encoding="utf-8")) or {}


def run(jobs: int) -> None:
    mutmut("run", "--max-children", str(jobs))
    explained = equivalents()
    # A mutant listed as equivalent that timed out is tested again too: a machine busy with something
    # else makes a harmless mutant's tests overrun their time. (Other timeouts stand: testing them again
    # takes minutes each, the time their tests take to reach the failing one or the loop to time out.)
    again = [name for name, verdict in verdicts().items()
             if (verdict == "timeout" and name in explained)
             or (verdict not in DETECTED | {"not checked"} and name not in explained)]
    if again:
        print(f"Testing the {len(again)} surviving or timed-out mutants again")
        mutmut("run", "--max-children", str(jobs), *again)


def report() -> int:
    found, explained = verdicts(), equivalents()
    counts = Counter(found.values())

    def detected(name: str) -> bool:
        # A listed equivalent that timed out again (tested twice by `run`) is counted as what it is: its
        # tests pass when run alone, but mutmut's CPU limit, estimated from the tests' first run, is too
        # short for them in a worker. It is reported, so that the listing can be checked.
        return found[name] in DETECTED and not (found[name] == "timeout" and name in explained)

    unchecked = counts["not checked"]  # a run stopped before it reached them
    caught = sum(map(detected, found))
    survivors = sorted(name for name, verdict in found.items() if verdict != "not checked" and not detected(name))
    unexplained = [name for name in survivors if name not in explained]
    stale = sorted(name for name in explained if name not in found or detected(name))
    total = len(found)
    print(f"mutants: {total}  " + "  ".join(f"{verdict}: {n}" for verdict, n in sorted(counts.items())))
    print(f"score: {caught}/{total} detected ({caught / max(total, 1):.1%}), "
          f"{len(survivors) - len(unexplained)} equivalent (tests/mutation_equivalents.yaml), "
          f"{len(unexplained)} unexplained" + (f", {unchecked} not checked yet" if unchecked else ""))
    for name in unexplained:
        print(f"  unexplained, {found[name]}: {name}")
    for name in survivors:
        if found[name] == "timeout":
            print(f"  listed equivalent, timed out under mutmut: {name}")
    for name in stale:
        print(f"  stale equivalence, now {found.get(name, 'gone')}: {name}")
    return 1 if unexplained or stale else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="run mutmut first (otherwise: report the last run)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2, the cores here)")
    arguments = parser.parse_args()
    if arguments.run:
        run(arguments.jobs)
    return report()


if __name__ == "__main__":
    sys.exit(main())
