"""Backend options: the base of every backend's ``models[].options`` model, and its errors.

Each backend declares one :class:`BackendOptions` subclass in a light module of its
own (``inference/backends/<backend>/options.py``: pydantic only, no torch, cv2 or
mediapipe), so that the configuration is validated in any environment without
importing a heavy backend. Unknown keys are refused, values are not coerced
(``"8"`` is not an int), every field has a description, and a parsed model is frozen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from courtside.config import ModelConfig
from inference.errors import ModelLoadError

OptionsT = TypeVar("OptionsT", bound="BackendOptions")


class BackendOptions(BaseModel):
    """Base of every backend's options: strict, unknown keys refused, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def option_problems(options_type: type[BackendOptions], options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field, reason)`` for every problem of ``options`` against ``options_type`` ([] when valid).

    ``field`` is the dotted path inside ``options`` (``providers.0``); an unknown key's
    reason lists the known ones.
    """
    try:
        options_type.model_validate(dict(options))
    except ValidationError as exc:
        return [_problem(options_type, err) for err in exc.errors()]
    return []


def _problem(options_type: type[BackendOptions], err: Any) -> tuple[str, str]:
    where = ".".join(str(p) for p in err["loc"]) or "(options)"
    if err["type"] == "extra_forbidden":
        return where, f"unknown option (known: {', '.join(sorted(options_type.model_fields)) or 'none'})"
    return where, str(err["msg"]).removeprefix("Value error, ")


def parse_options(options_type: type[OptionsT], model: ModelConfig) -> OptionsT:
    """``model.options`` as ``options_type``; a runner calls it first thing in ``__init__``.

    Raises :class:`ModelLoadError` naming the model, the backend and every bad field.
    (The configuration was normally checked at load already, with the file named: see
    :func:`inference.backends.registry.validate_options`.)
    """
    problems = option_problems(options_type, model.options)
    if problems:
        detail = "; ".join(f"options.{where}: {reason}" for where, reason in problems)
        raise ModelLoadError(f"model {model.name}: bad {model.backend} options: {detail}")
    return options_type.model_validate(dict(model.options))
