"""Categories (create, rename, move, colour, icon, delete) and tags (rename, colour, merge, delete)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from entries import selectors, services
from entries.forms import category_choices
from entries.models import Category, Tag
from entries.services.organize import merge_tags
from entries.views.common import actor, category_tree

PALETTE = [
    ("", "None"), ("#e5484d", "Red"), ("#f76b15", "Orange"), ("#e2a336", "Amber"), ("#30a46c", "Green"),
    ("#12a594", "Teal"), ("#0090ff", "Blue"), ("#8e4ec6", "Purple"), ("#d6409f", "Pink"), ("#8d8d8d", "Grey"),
]  # fmt: skip


def palette(current: str = "") -> list[tuple[str, str]]:
    """The colours to pick from (a colour set through the API stays pickable)."""
    if current and current not in dict(PALETTE):
        return [*PALETTE, (current, "Current colour")]
    return PALETTE


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    parent = forms.ChoiceField(required=False, label="Inside")
    color = forms.ChoiceField(required=False, label="Colour", choices=PALETTE, widget=forms.RadioSelect)
    icon = forms.CharField(required=False, max_length=32, help_text="Optional: an emoji or a short symbol.")

    def __init__(self, *args: Any, choices: list[tuple[str, str]], color: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "Top level"), *choices[1:]]  # type: ignore[attr-defined]
        self.fields["color"].choices = palette(color)  # type: ignore[attr-defined]


class TagForm(forms.Form):
    name = forms.CharField(max_length=64)
    color = forms.ChoiceField(required=False, label="Colour", choices=PALETTE, widget=forms.RadioSelect)

    def __init__(self, *args: Any, color: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["color"].choices = palette(color)  # type: ignore[attr-defined]


class MergeForm(forms.Form):
    target = forms.UUIDField(error_messages={"required": "Choose the tag to merge into.", "invalid": "No such tag."})


def _show_errors(request: HttpRequest, error: ValidationError) -> None:
    for problems in error.message_dict.values():
        messages.error(request, " ".join(problems))


@login_required
@require_GET
def categories(request: HttpRequest) -> HttpResponse:
    tree = category_tree(actor(request))
    choices = category_choices(tree)
    rows = [
        (node, depth, CategoryForm(
            initial={"name": node.name, "parent": str(parent or ""), "color": node.color, "icon": node.icon},
            choices=choices, color=node.color, auto_id=f"category-{node.id}-%s",
        ))
        for node, depth, parent in _with_parents(tree)
    ]  # fmt: skip
    return render(request, "entries/categories.html", {"rows": rows, "form": CategoryForm(choices=choices)})


def _with_parents(tree: list[Any], parent: Any = None, depth: int = 0) -> list[tuple[Any, int, Any]]:
    rows = []
    for node in tree:
        rows.append((node, depth, parent))
        rows.extend(_with_parents(node.children, node.id, depth + 1))
    return rows


@login_required
@require_POST
def create_category(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    form = CategoryForm(request.POST, choices=category_choices(category_tree(user)))
    if form.is_valid():
        data = form.cleaned_data
        try:
            category = services.create_category(
                actor=user, name=data["name"], parent=data.get("parent") or None,
                color=data.get("color") or "", icon=data.get("icon") or "",
            )  # fmt: skip
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, f"Category “{category.name}” created.")
    else:
        messages.error(request, "Give the category a name.")
    return redirect("entries:categories")


@login_required
@require_POST
def update_category(request: HttpRequest, category_id: str) -> HttpResponse:
    user = actor(request)
    category = Category.objects.filter(owner=user, id=category_id).first()
    if category is None:
        raise Http404
    form = CategoryForm(request.POST, choices=category_choices(category_tree(user)), color=category.color)
    if not form.is_valid():
        messages.error(request, "A category needs a name.")
        return redirect("entries:categories")
    data = form.cleaned_data
    changes = {"name": data["name"], "icon": data.get("icon") or "", "color": data.get("color") or ""}
    if (data.get("parent") or None) != (str(category.parent_id) if category.parent_id else None):
        changes["parent"] = data.get("parent") or None
    try:
        services.update_category(actor=user, category_id=category.id, **changes)
    except ValidationError as error:
        _show_errors(request, error)
    else:
        messages.success(request, f"Category “{data['name']}” saved.")
    return redirect("entries:categories")


@login_required
@require_POST
def delete_category(request: HttpRequest, category_id: str) -> HttpResponse:
    try:
        services.delete_category(actor=actor(request), category_id=category_id)
    except Category.DoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        _show_errors(request, error)
    else:
        messages.success(request, "Category deleted; its entries and sub-categories moved up a level.")
    return redirect("entries:categories")


@login_required
@require_GET
def tags(request: HttpRequest) -> HttpResponse:
    tags = list(selectors.tags_for_owner(actor(request)).order_by("name"))
    rows = [
        (tag, TagForm(initial={"name": tag.name, "color": tag.color}, color=tag.color, auto_id=f"tag-{tag.id}-%s"))
        for tag in tags
    ]
    return render(request, "entries/tags.html", {"rows": rows, "tags": tags, "form": TagForm()})


@login_required
@require_POST
def create_tag(request: HttpRequest) -> HttpResponse:
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            tag = services.create_tag(
                actor=actor(request), name=form.cleaned_data["name"],
                color=form.cleaned_data.get("color") or "",
            )  # fmt: skip
        except ValidationError as error:
            _show_errors(request, error)
        else:
            messages.success(request, f"Tag “{tag.name}” created.")
    else:
        messages.error(request, "Give the tag a name.")
    return redirect("entries:tags")


@login_required
@require_POST
def update_tag(request: HttpRequest, tag_id: str) -> HttpResponse:
    user = actor(request)
    tag = Tag.objects.filter(owner=user, id=tag_id).first()
    if tag is None:
        raise Http404
    form = TagForm(request.POST, color=tag.color)
    if not form.is_valid():
        messages.error(request, "A tag needs a name.")
        return redirect("entries:tags")
    color = form.cleaned_data.get("color") or ""
    try:
        services.update_tag(actor=user, tag_id=tag.id, name=form.cleaned_data["name"], color=color)
    except ValidationError as error:
        _show_errors(request, error)
        messages.info(request, "To join two tags into one, use “Merge into”.")
    else:
        messages.success(request, f"Tag “{form.cleaned_data['name']}” saved.")
    return redirect("entries:tags")


@login_required
@require_POST
def merge_tag(request: HttpRequest, tag_id: str) -> HttpResponse:
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(problem) for problem in form.errors["target"]))
        return redirect("entries:tags")
    try:
        target = merge_tags(actor=actor(request), source_id=tag_id, target_id=form.cleaned_data["target"])
    except Tag.DoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        _show_errors(request, error)
    else:
        messages.success(request, f"Merged: those entries are now tagged “{target.name}”.")
    return redirect("entries:tags")


@login_required
@require_POST
def delete_tag(request: HttpRequest, tag_id: str) -> HttpResponse:
    try:
        services.delete_tag(actor=actor(request), tag_id=tag_id)
    except Tag.DoesNotExist:
        raise Http404 from None
    messages.success(request, "Tag deleted; it was taken off its entries.")
    return redirect("entries:tags")
