"""The conventions of PortSIP's wire format that every model in :mod:`ivrhooks.models` shares.

- *Write* models (request bodies) forbid unknown fields and ``null`` values: no request schema
  of PortSIP's published OpenAPI allows ``null``, so a field is either sent with a value of its
  type or left out. :func:`to_wire` sends only the fields that were set.
- *Read* models (response bodies) ignore fields they do not know (newer PBX builds add fields)
  and read ``null`` as "not given": PortSIP REST "About" (Data Format) says blank fields are
  returned as null, although no response schema allows it.
- The field types below carry the published constraints once (``int32`` bounds included).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from ivrhooks.core.types import CREDENTIAL_RE, EXTENSION_RE, MAX_ACTION_URL

__all__ = [
    "INT32_MAX",
    "Credential",
    "ExtensionNumber",
    "Id",
    "Int32",
    "Mask",
    "Name",
    "NonNegativeInt32",
    "Pin",
    "PositiveInt32",
    "ReadModel",
    "Url",
    "WriteModel",
    "describe_validation_error",
    "to_wire",
    "validation_problems",
]

#: ``format: int32`` in the OpenAPI documents.
INT32_MAX = 2**31 - 1

Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# The published patterns are unanchored ("[0-9]{3,64}"), which in JSON Schema matches any value
# that merely contains such a run; a PBX plainly means the whole value (docs/rest-api.md).
ExtensionNumber = Annotated[str, StringConstraints(pattern=f"^{EXTENSION_RE}$")]
Mask = Annotated[str, StringConstraints(max_length=255)]
Credential = Annotated[str, StringConstraints(pattern=f"^{CREDENTIAL_RE}$")]
# OpenAPI: url maxLength 128 (the seed text said 1024; the published schema wins).
Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ACTION_URL)]


def _pin(value: str) -> str:
    # OpenAPI /ivrs: pin minLength 6, maxLength 10, "a sequence of numbers 6-10 digits in length".
    if not (value.isascii() and value.isdigit() and 6 <= len(value) <= 10):
        raise ValueError("must be 6 to 10 digits (PortSIP's PIN policy)")
    return value


Pin = Annotated[str, AfterValidator(_pin)]
Int32 = Annotated[int, Field(ge=-(2**31), le=INT32_MAX)]
NonNegativeInt32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
PositiveInt32 = Annotated[int, Field(ge=1, le=INT32_MAX)]
Id = str  # opaque; never built or parsed (PortSIP REST "About")


class WriteModel(BaseModel):
    """A request body: unknown fields and nulls are refused; send it with :func:`to_wire`."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(str(key) for key, value in data.items() if value is None)
            if nulls:
                raise ValueError(
                    f"{', '.join(nulls)}: must not be null; leave the field out instead"
                )
        return data


class ReadModel(BaseModel):
    """A response body: unknown fields are ignored, and ``null`` reads as "not given"."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_blanks(cls, data: Any) -> Any:
        # A null field takes the model's default, so a blank ``enabled`` or ``auth`` reads as
        # the schema's default (false, DISABLE) instead of failing the whole read.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


def to_wire(model: BaseModel) -> dict[str, Any]:
    """The JSON body for a write: only the fields that were set, enums as strings."""
    return model.model_dump(mode="json", exclude_unset=True, by_alias=True)


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """``(field, message)`` for each error; the field is dotted (``custom_forward_rules.0.x``)."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        problems.append((field, str(error["msg"]).removeprefix("Value error, ")))
    return problems


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming every bad field: ``pin: String should match pattern ...; url: ...``."""
    return "; ".join(
        f"{field}: {message}" if field else message for field, message in validation_problems(exc)
    )
