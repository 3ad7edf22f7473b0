"""Captures as a dataset: Parquet tables, one directory each, and questions over them (no Qt)."""
