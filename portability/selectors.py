"""The read path: a person sees their own exports and imports; anyone else's do not exist."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from portability.models import Export, Import


def exports_for(owner: User) -> QuerySet[Export]:
    return Export.objects.filter(owner=owner)


def export_for(owner: User, export_id: Any) -> Export:
    return get_object_or_404(exports_for(owner), id=export_id)


def imports_for(owner: User) -> QuerySet[Import]:
    return Import.objects.filter(owner=owner)


def import_for(owner: User, import_id: Any) -> Import:
    return get_object_or_404(imports_for(owner), id=import_id)
