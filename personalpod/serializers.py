"""Serializer bases shared by the apps."""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty


class QueryParamsIn(serializers.Serializer[dict[str, Any]]):
    """Query parameters: a flat set of plain fields, validated on every list or search request.

    DRF deep-copies each declared field for every serializer it builds, which runs the
    field's __init__ again (its validators included): about a fifth of a millisecond for
    the fifteen parameters of a search, on a request whose SQL can take three. A plain
    field keeps nothing of a request until it is bound, and binding sets attributes of the
    copy alone, so a shallow copy does. Fields holding other fields (a nested serializer, a
    ListField's child) would share those: they are refused."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        composite = (serializers.BaseSerializer, serializers.ListField, serializers.DictField)
        nested = [name for name, field in vars(cls)["_declared_fields"].items() if isinstance(field, composite)]
        if nested:
            raise TypeError(f"{cls.__name__}: {', '.join(nested)} hold other fields; use a Serializer")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        declared = list(self._declared_fields.items())
        given = getattr(self, "initial_data", None)
        if given is not None:
            # A parameter left out that is optional and has no default has nothing to
            # validate: DRF would copy and bind its field, then raise and catch SkipField
            # for it. A search names two or three of its fifteen.
            declared = [(name, field) for name, field in declared if name in given or not _skipped_when_absent(field)]
        return {name: copy.copy(field) for name, field in declared}


def _skipped_when_absent(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    """Whether DRF leaves FIELD out of the validated data when its parameter is absent."""
    return not field.required and field.default is empty and field.default_empty_html is empty
