"""Categories and tags: the one place that creates, renames, moves and deletes them."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import Action, User
from entries.feed import lock_owner
from entries.models import Category, ChangeOp, Entry, EntryTag, Tag
from entries.services.common import category_for, keep_versions, record, slugs_for

MAX_DEPTH = 5  # a top-level category has depth 0; its children 1; ... down to 5
STARTER_CATEGORIES = ("Personal", "Work", "Finance", "Home", "Travel")
_COLOR = r"^#[0-9a-fA-F]{6}$"


def _clean_name(name: Any, limit: int) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": ["A name is required."]})
    if len(name.strip()) > limit:
        raise ValidationError({"name": [f"At most {limit} characters."]})
    return name.strip()


def _clean_color(color: Any) -> str:
    if color in (None, ""):
        return ""
    if not isinstance(color, str) or not re.match(_COLOR, color):
        raise ValidationError({"color": ["Use a colour like #3366ff."]})
    return color.lower()


def create_starter_categories(user: User) -> None:
    Category.objects.bulk_create(
        [Category(owner=user, name=name, is_system=True) for name in STARTER_CATEGORIES], ignore_conflicts=True
    )


def _lock_categories(owner: User) -> None:
    # One writer at a time reshapes a user's tree: cycle and depth checks need a stable tree.
    # The owner's row comes first, as in every write (entries.feed.lock_owner).
    lock_owner(owner.id)
    list(Category.objects.filter(owner=owner).select_for_update().values_list("id", flat=True))


def create_category(*, actor: User, name: Any, parent: Any = None, color: Any = "", icon: Any = "") -> Category:
    name, color = _clean_name(name, 100), _clean_color(color)
    with transaction.atomic():
        _lock_categories(actor)
        parent_row = category_for(actor, parent, field="parent")
        depth = parent_row.depth + 1 if parent_row else 0
        if depth > MAX_DEPTH:
            raise ValidationError({"parent": [f"Categories nest at most {MAX_DEPTH + 1} levels deep."]})
        try:
            with transaction.atomic():
                return Category.objects.create(
                    owner=actor, name=name, parent=parent_row, color=color, icon=str(icon or "")[:32], depth=depth
                )
        except IntegrityError:
            raise ValidationError({"name": ["A category with this name is already here."]}) from None


def _subtree(root: Category) -> list[Category]:
    """ROOT and everything below it (the caller holds the tree lock)."""
    by_parent: dict[Any, list[Category]] = {}
    for category in Category.objects.filter(owner_id=root.owner_id):
        by_parent.setdefault(category.parent_id, []).append(category)
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(by_parent.get(node.id, []))
    return found


def update_category(*, actor: User, category_id: Any, **changes: Any) -> Category:
    with transaction.atomic():
        _lock_categories(actor)
        category = Category.objects.get(id=category_id, owner=actor)
        updated: list[str] = []
        renamed = "name" in changes and _clean_name(changes["name"], 100) != category.name
        if "name" in changes:
            category.name = _clean_name(changes["name"], 100)
            updated.append("name")
        if "color" in changes:
            category.color = _clean_color(changes["color"])
            updated.append("color")
        if "icon" in changes:
            category.icon = str(changes["icon"] or "")[:32]
            updated.append("icon")
        if "parent" in changes:
            _move(category, category_for(actor, changes["parent"], field="parent"))
            updated += ["parent", "depth"]
        try:
            with transaction.atomic():
                category.save(update_fields=[*updated, "updated_at"])
        except IntegrityError:
            raise ValidationError({"name": ["A category with this name is already here."]}) from None
        if renamed:  # its entries now show (and are found under) another name
            _change_entries(actor, Entry.objects.filter(category=category), lambda ids: None)
    return category


def _move(category: Category, parent: Category | None) -> None:
    subtree = _subtree(category)
    if parent is not None and parent.id in {node.id for node in subtree}:
        raise ValidationError({"parent": ["A category cannot move inside itself or its own sub-categories."]})
    new_depth = parent.depth + 1 if parent else 0
    shift = new_depth - category.depth
    if max(node.depth for node in subtree) + shift > MAX_DEPTH:
        raise ValidationError({"parent": [f"Categories nest at most {MAX_DEPTH + 1} levels deep."]})
    if shift:
        ids = [node.id for node in subtree if node.id != category.id]
        Category.objects.filter(id__in=ids).update(depth=F("depth") + shift)
    category.parent, category.depth = parent, new_depth


def delete_category(*, actor: User, category_id: Any) -> None:
    """Delete a category: its entries and its sub-categories move up to its parent."""
    with transaction.atomic():
        _lock_categories(actor)
        category = Category.objects.get(id=category_id, owner=actor)
        if category.is_system:
            raise ValidationError({"category": ["Starter categories cannot be deleted (rename them if you like)."]})
        for child in Category.objects.filter(parent=category):
            _move(child, category.parent)
            try:
                with transaction.atomic():
                    child.save(update_fields=["parent", "depth", "updated_at"])
            except IntegrityError:
                raise ValidationError(
                    {"category": [f"Its sub-category {child.name!r} would clash with one of the same name above it."]}
                ) from None
        _change_entries(
            actor,
            Entry.objects.filter(category=category),
            lambda ids: Entry.objects.filter(id__in=ids).update(category=category.parent),
        )
        category.delete()


def _change_entries(actor: User, entries: Any, apply: Any) -> None:
    """Apply a change to many entries with the usual bookkeeping (history, version, feed, log)."""
    changed = list(entries.select_for_update(of=("self",)).prefetch_related("tags").order_by("id"))
    if not changed:
        return
    keep_versions(changed, actor)
    ids = [entry.id for entry in changed]
    apply(ids)
    Entry.objects.filter(id__in=ids).update(version=F("version") + 1)
    for entry in changed:
        entry.version += 1
    record(changed, op=ChangeOp.UPDATE, action=Action.UPDATE, actor=actor)


def create_tag(*, actor: User, name: Any, color: Any = "") -> Tag:
    name, color = _clean_name(name, 64), _clean_color(color)
    lock_owner(actor.id)
    try:
        with transaction.atomic():
            tag = Tag.objects.create(owner=actor, name=name, color=color)
            tag.refresh_from_db(fields=["slug"])  # made by the database trigger
            return tag
    except IntegrityError:
        raise ValidationError({"name": ["You already have a tag with this name."]}) from None


def update_tag(*, actor: User, tag_id: Any, **changes: Any) -> Tag:
    with transaction.atomic():
        lock_owner(actor.id)
        tag = Tag.objects.select_for_update().get(id=tag_id, owner=actor)
        updated: list[str] = []
        if "color" in changes:
            tag.color = _clean_color(changes["color"])
            updated.append("color")
        renamed = "name" in changes and _clean_name(changes["name"], 64) != tag.name
        if renamed:
            tag.name = _clean_name(changes["name"], 64)
            updated.append("name")
            if Tag.objects.filter(owner=actor, slug=slugs_for([tag.name])[tag.name]).exclude(id=tag.id).exists():
                raise ValidationError({"name": ["You already have a tag with this name."]})
        tag.save(update_fields=[*updated, "updated_at"])
        tag.refresh_from_db(fields=["slug", "usage_count"])
        if renamed:  # every entry carrying it now shows another name
            _change_entries(actor, Entry.objects.filter(entry_tags__tag=tag), lambda ids: None)
    return tag


def delete_tag(*, actor: User, tag_id: Any) -> None:
    with transaction.atomic():
        lock_owner(actor.id)
        tag = Tag.objects.select_for_update().get(id=tag_id, owner=actor)
        _change_entries(
            actor,
            Entry.objects.filter(entry_tags__tag=tag),
            lambda ids: EntryTag.objects.filter(tag=tag, entry_id__in=ids).delete(),
        )
        tag.delete()


def merge_tags(*, actor: User, source_id: Any, target_id: Any) -> Tag:
    """Merge tag SOURCE into TARGET: its entries get TARGET (a new version each), then it goes."""
    if str(source_id) == str(target_id):
        raise ValidationError({"target": ["Choose another tag to merge into."]})
    with transaction.atomic():
        lock_owner(actor.id)
        # In id order, as every writer locks tag rows (the usage-count triggers lock them too).
        locked = {
            str(tag.id): tag
            for tag in Tag.objects.select_for_update().filter(owner=actor, id__in=[source_id, target_id]).order_by("id")
        }
        source, target = locked.get(str(source_id)), locked.get(str(target_id))
        if source is None:
            raise Tag.DoesNotExist
        if target is None:
            raise ValidationError({"target": ["No such tag."]})

        def move(ids: list[Any]) -> None:
            EntryTag.objects.bulk_create(
                [EntryTag(entry_id=entry_id, tag=target) for entry_id in sorted(ids)], ignore_conflicts=True
            )
            EntryTag.objects.filter(tag=source, entry_id__in=ids).delete()

        _change_entries(actor, Entry.objects.filter(entry_tags__tag=source), move)
        source.delete()
        target.refresh_from_db(fields=["usage_count"])
    return target
