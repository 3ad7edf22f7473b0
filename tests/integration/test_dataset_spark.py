"""The same dataset read by Apache Spark in local mode: each question of docs/DATASET.md gets the same answer
in Spark SQL as in DuckDB. Outside the default run (``pytest -m spark``); needs the ``spark`` extra and Java."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from dataset_support import DAY1, DAY2, documented_queries, write_call
from flushscope.dataset.build import build_dataset
from flushscope.dataset.duck import connect
from flushscope.dataset.schema import TABLES
from flushscope.dataset.store import table_files

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (java) on PATH: Spark cannot start")
    session_module = pytest.importorskip("pyspark.sql", reason="pyspark is not installed (the spark extra)")
    session = (
        session_module.SparkSession.builder.master("local[1]")
        .appName("flushscope-dataset-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Calls of two clients and flushscope's own over two days: clean, slow, cutting a word, skipping a
    flush_id."""
    folder = tmp_path_factory.mktemp("captures")
    for n in range(6):
        day = DAY1 if n < 4 else DAY2
        write_call(
            folder / f"call{n}.fscap.jsonl",
            day.replace(minute=n),
            client=None if n % 3 == 0 else f"app/{n % 2}",
            skip_flush_id=n == 5,
            slow=0.1 * n,
            cut_word=n in (1, 4),
        )
    out = tmp_path_factory.mktemp("dataset")
    build_dataset([folder], out)
    return out


def _same(value: Any) -> Any:
    """A value as both engines give it back, made comparable: floats rounded, times naive UTC."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    if isinstance(value, datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(tz=None).replace(tzinfo=None)
        )
    if isinstance(value, list | tuple):
        return tuple(_same(v) for v in value)
    return value


def _rows(rows: list[Any]) -> list[tuple[Any, ...]]:
    # NULLs sort first in Spark and last in DuckDB: compare the rows in one order of our own.
    return sorted((tuple(_same(v) for v in row) for row in rows), key=repr)


@pytest.mark.parametrize("name", [name for name, _duck, _spark in documented_queries()])
def test_spark_answers_each_documented_question_as_duckdb(spark: Any, dataset: Path, name: str) -> None:
    for table in TABLES:
        if table_files(dataset, table):
            spark.read.parquet(str(dataset / table)).createOrReplaceTempView(table)
    duck_sql, spark_sql = next((d, s) for found, d, s in documented_queries() if found == name)
    with connect(dataset) as con:
        expected = _rows(con.execute(duck_sql).fetchall())
    answered = _rows([tuple(row) for row in spark.sql(spark_sql).collect()])
    assert expected, name
    assert answered == expected, name


def test_spark_finds_the_day_partitions(spark: Any, dataset: Path) -> None:
    days = spark.read.parquet(str(dataset / "captures")).select("day").distinct().collect()
    assert sorted(row.day for row in days) == [date(2026, 1, 12), date(2026, 1, 13)]
