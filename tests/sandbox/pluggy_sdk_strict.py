"""Strict validation of the fake Pluggy's bodies against the `pluggy_sdk` models.

`Model.from_dict` checks types, required fields and enums but silently drops keys the model
does not declare; `strict` additionally walks the body and fails on any key that the model (or
the nested model at that place) lacks, so the sandbox cannot drift from Pluggy's schema by
adding fields the real API does not have.
"""

from __future__ import annotations

import typing
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def unknown_fields(model: type[BaseModel], data: Any, path: str = "$") -> list[str]:
    """Paths of keys in `data` that `model` (recursively) does not declare."""
    if not isinstance(data, dict):
        return []
    declared = {(field.alias or name): field.annotation for name, field in model.model_fields.items()}
    problems = [f"{path}.{key}" for key in data if key not in declared]
    for key, value in data.items():
        for sub in _models_in(declared.get(key)):
            items = value if isinstance(value, list) else [value]
            for i, element in enumerate(items):
                where = f"{path}.{key}[{i}]" if isinstance(value, list) else f"{path}.{key}"
                problems += unknown_fields(sub, element, where)
    return problems


def strict(model: type[M], data: Any) -> M:
    """`model.from_dict(data)` plus the unknown-field check; returns the parsed model."""
    assert isinstance(data, dict), f"expected a JSON object for {model.__name__}, got {type(data).__name__}"
    unknown = unknown_fields(model, data)
    assert not unknown, f"fields unknown to pluggy_sdk.{model.__name__}: {unknown}"
    parsed = model.from_dict(data)  # type: ignore[attr-defined]
    assert parsed is not None
    return parsed
