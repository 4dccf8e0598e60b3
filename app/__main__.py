"""One command line: `python -m app rules check|explain`, and the service's own commands."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv and argv[0] == "rules":
        from .rules_cli import main as rules_main

        return rules_main(argv[1:])
    print("usage: python -m app rules {check,explain} ...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
