"""Argument parsing and the warehouse connection every product command shares."""

from __future__ import annotations

from datetime import date

import psycopg

from ingestion.errors import UserError
from ingestion.warehouse import (
    prepare_warehouse,
)


def parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} must be a date like 2026-10-31; got {value!r}.") from None


def parse_pairs(values: list[str], option: str) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{option} takes NAME=VALUE; got {value!r}.")
        pairs.setdefault(key.strip(), []).extend(v for v in item.split(",") if v)
    return pairs


def connect() -> psycopg.Connection:
    return psycopg.connect(prepare_warehouse())
