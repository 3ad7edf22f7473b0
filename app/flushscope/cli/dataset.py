"""``flushscope dataset``: captures as Parquet tables (``build``), and questions over them with DuckDB
(``query``, ``summary``)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flushscope.cli.errors import fail, print_error
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from flushscope.cli.output import print_json, print_line, print_text
from flushscope.cli.subcommand import Subcommand

if TYPE_CHECKING:
    from flushscope.dataset.build import Step


def moment(text: str) -> datetime:
    """A date (``2026-01-12``: its midnight) or an ISO 8601 time; UTC unless it says otherwise."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (2026-01-12) or a time (2026-01-12T10:00, 2026-01-12T10:00+02:00)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The three actions and their arguments."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="add captures (files, or folders searched for *.jsonl and *.har) to a dataset",
        description="Read each capture once and write its rows to the dataset's Parquet tables. A capture "
        "already there and unchanged (same size and fingerprint) is skipped, a changed one replaced; *.part "
        "files (still being written) are left alone. Exit 0 when every capture was usable, 1 when some "
        "could not be read (each named on one line), 2 when none could be, or the dataset folder cannot "
        "be used.",
    )
    build.add_argument("inputs", nargs="+", metavar="CAPTURE_OR_DIR")
    build.add_argument("--out", required=True, metavar="DIR", help="the dataset folder (made if missing)")
    build.add_argument("--chunks", action="store_true", help="also write the chunks table (without audio)")
    build.add_argument("--rebuild", action="store_true", help="read every capture again, changed or not")
    build.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        metavar="N",
        help="read N captures at once, in N processes, this one included (about 100 MiB each; default 1)",
    )
    build.add_argument("--quiet", action="store_true", help="print nothing but the captures that failed")
    build.set_defaults(action_run=_build)

    query = actions.add_parser(
        "query",
        help="answer SQL over a dataset with DuckDB (views named after the tables)",
        description="Views: captures, connections, contexts, segments, anomalies, lints, boundaries, chunks "
        "(docs/DATASET.md lists their columns). Exit 2 for a bad dataset or query.",
    )
    query.add_argument("dataset", metavar="DIR")
    query.add_argument("sql", metavar="SQL")
    shape = query.add_mutually_exclusive_group()
    shape.add_argument("--csv", action="store_true", help="CSV with a header line")
    shape.add_argument("--json", action="store_true", help="a JSON array of objects")
    query.set_defaults(action_run=_query)

    summary = actions.add_parser(
        "summary",
        help="a dataset in one page: calls, rates of findings, time to first audio, worst calls",
        description="Times are UTC unless they say otherwise; a period holds the captures that started in "
        "it (--since included, --until not). --split compares the captures before it with those from it on.",
    )
    summary.add_argument("dataset", metavar="DIR")
    summary.add_argument("--since", type=moment, metavar="WHEN", help="captures that started at or after")
    summary.add_argument("--until", type=moment, metavar="WHEN", help="captures that started before")
    summary.add_argument("--split", type=moment, metavar="WHEN", help="compare before WHEN and from WHEN on")
    summary.add_argument("--worst", type=int, default=10, metavar="N", help="how many worst calls to list")
    summary.add_argument("--json", action="store_true", help="one JSON object instead of text")
    summary.set_defaults(action_run=_summary)


def dataset_command(args: argparse.Namespace) -> int:
    """Run the chosen action."""
    from flushscope.dataset.store import DatasetError

    try:
        code: int = args.action_run(args)
    except DatasetError as exc:
        return fail(str(exc))
    return code


def _build(args: argparse.Namespace) -> int:
    from flushscope.dataset.build import Outcome, build_dataset

    def say(step: Step) -> None:
        if step.outcome is Outcome.FAILED:
            print_error(f"skipped: {step.reason or step.path}")
        elif not args.quiet:
            print_line(f"{step.outcome.value}: {step.path}")

    try:
        result = build_dataset(
            args.inputs,
            Path(args.out),
            chunks=args.chunks,
            rebuild=args.rebuild,
            jobs=args.jobs,
            progress=say,
        )
    except KeyboardInterrupt:
        return fail(
            "interrupted: the dataset stays readable, and the next build completes it", EXIT_INTERRUPTED
        )
    counts = ", ".join(f"{result.count(o)} {o.value}" for o in Outcome)
    parts = f", {len(result.parts)} still being written (*.part)" if result.parts else ""
    recovered = " (an interrupted build was cleaned up first)" if result.recovered else ""
    if not args.quiet:
        print_line(f"dataset {args.out}: {counts}{parts}{recovered}")
    if not result.usable:
        return fail("no capture could be used" + ("" if result.steps else " (none found)"))
    return EXIT_FAILED if result.count(Outcome.FAILED) else EXIT_OK


def _query(args: argparse.Namespace) -> int:
    import duckdb

    from flushscope.dataset.duck import connect
    from flushscope.dataset.results import write_csv, write_json, write_table

    with connect(args.dataset) as con:
        try:
            cursor = con.execute(args.sql)
        except duckdb.Error as exc:
            return fail(f"query: {exc}", EXIT_USAGE)
        write = write_csv if args.csv else write_json if args.json else write_table
        write(cursor, sys.stdout)
    return EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    from flushscope.dataset.summary import summary
    from flushscope.dataset.summary_text import format_summary

    found = summary(args.dataset, args.since, args.until, split=args.split, worst=max(0, args.worst))
    if args.json:
        print_json(found.to_json())
    else:
        print_text(format_summary(found))
    return EXIT_OK


COMMAND = Subcommand(
    name="dataset",
    help="turn captures into a Parquet dataset and ask it questions (build, query, summary)",
    description="flushscope dataset build CAPTURE_OR_DIR... --out DIR; flushscope dataset query DIR SQL; "
    "flushscope dataset summary DIR. The tables are plain Parquet, one folder each, partitioned by day: "
    "DuckDB, Spark and Trino read them as they are (docs/DATASET.md).",
    add_arguments=add_arguments,
    run=dataset_command,
)
