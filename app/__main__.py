"""One command line: `python -m app rules check|explain`, and the service's own commands."""

from __future__ import annotations

import sys

USAGE = """usage: python -m app COMMAND ...
  rules {check,explain} ...     validate the rule files and run their examples; explain a decision
  seed [--file PATH]            load the demo companies (idempotent, keyed by credit code)
  events refresh [--as-of DAY]  decide every measure again for the day (run daily): status events
  clients {create,list,revoke}  API clients and their keys
  officials {create,disable}    console accounts of officials (passwords asked for without echo)
  db upgrade [REVISION]         apply the database migrations"""


def main(argv: list[str]) -> int:
    if argv and argv[0] == "rules":
        from .rules_cli import main as rules_main

        return rules_main(argv[1:])
    if argv and argv[0] in ("seed", "events", "clients", "officials", "db"):
        from .cli_service import main as service_main

        return service_main(argv)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
