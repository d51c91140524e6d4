"""``python -m optimizer.applier PLAN_UUID``: run one plan in a process of its own.

Exit status 0 when the plan SUCCEEDED, 1 when it ended FAILED or CANCELLED,
2 on bad input (unknown plan, a plan that is not PENDING, a busy plan).
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from typing import Any

from optimizer.models.errors import UserError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optimizer.applier",
                                     description="Execute one action plan to its end.")
    parser.add_argument("plan_uuid")
    parser.add_argument("--config-file")
    parser.add_argument("--database-url")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        from optimizer.applier import execute_plan
        from optimizer.config import load_config

        ctx = _context(load_config(args.config_file, args.database_url))
        try:
            result = execute_plan(ctx, args.plan_uuid)
        finally:
            ctx.close()
    except UserError as exc:
        print(f"optimizer.applier: error: {exc}", file=sys.stderr)
        return 2
    print(f"action plan {result.plan_uuid} {result.state}: {result.message}")
    return 0 if result.state == "SUCCEEDED" else 1


@dataclass
class ApplierContext:
    """What :func:`~optimizer.applier.execute_plan` needs of a context, and no more.

    The full :class:`~optimizer.context.Context` loads the strategies and the
    planner; a process that only applies a plan starts faster without them.
    """

    settings: Any
    database: Any
    planner: Any
    _collector: Any = None

    def close(self) -> None:
        self.database.close()


def _context(settings) -> ApplierContext:
    from optimizer.db import open_database

    return ApplierContext(settings, open_database(settings.database_url), settings.planner)


if __name__ == "__main__":
    sys.exit(main())
