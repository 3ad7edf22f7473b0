"""Captures as a dataset: Parquet tables, one folder each, and questions over them with DuckDB (no Qt).

For a view of a dataset folder: :func:`flushscope.dataset.calls.calls` (its calls, worst first, as
:class:`~flushscope.dataset.calls.CallRow`) and :func:`flushscope.dataset.summary.summary` (a
:class:`~flushscope.dataset.summary.Summary`); both raise :class:`~flushscope.dataset.store.DatasetError` for
a folder that is not a dataset. docs/DATASET.md describes the tables.
"""
