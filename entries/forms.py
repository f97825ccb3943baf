"""Web forms for entries, one per type. They only shape input: every rule is checked by the
services (entries.services), whose field errors are shown next to the inputs they name."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from entries import search_query
from entries.models import TITLE_MAX_LENGTH, Entry, EntryType, Status
from entries.search import MAX_QUERY_LENGTH
from entries.selectors import CategoryNode

LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
EM_SPACE = "\u2003"  # indents sub-categories in a <select>, where CSS cannot


class TypeInfo:
    def __init__(self, label: str, plural: str, blurb: str) -> None:
        self.label, self.plural, self.blurb = label, plural, blurb


TYPES: dict[str, TypeInfo] = {
    EntryType.NOTE: TypeInfo("Note", "Notes", "Markdown text: ideas, lists, meeting notes."),
    EntryType.PASSWORD: TypeInfo("Password", "Passwords", "A login, encrypted, with an optional authenticator code."),
    EntryType.BOOKMARK: TypeInfo("Bookmark", "Bookmarks", "A web address worth keeping."),
    EntryType.TASK: TypeInfo("Task", "Tasks", "Something to do, with a due date and priority."),
    EntryType.CONTACT: TypeInfo("Contact", "Contacts", "A person: e-mail addresses, phone numbers, where they work."),
    EntryType.DOCUMENT: TypeInfo("Document", "Documents", "Files: scans, PDFs, photos, with a description."),
}


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=LOCAL_DATETIME)


def local_datetime_field(label: str, help_text: str = "") -> forms.DateTimeField:
    # Parsed in the signed-in person's time zone (accounts.middleware.UserTimezoneMiddleware).
    return forms.DateTimeField(
        label=label, required=False, help_text=help_text, widget=LocalDateTimeInput(),
        input_formats=[LOCAL_DATETIME, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )  # fmt: skip


class ValuesWidget(forms.Widget):
    """Several values under one name (a contact's e-mail addresses), one input each."""

    template_name = "entries/widgets/values.html"

    def __init__(self, input_type: str = "text", add_label: str = "Add another", attrs: dict[str, Any] | None = None):
        super().__init__(attrs)
        self.input_type, self.add_label = input_type, add_label

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        return [value.strip() for value in data.getlist(name) if value.strip()]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"].update(values=list(value or []) or [""], input_type=self.input_type, add_label=self.add_label)
        return context


class ValuesField(forms.Field):
    widget = ValuesWidget

    def to_python(self, value: Any) -> list[str]:
        return list(value or [])


def category_choices(tree: list[CategoryNode]) -> list[tuple[str, str]]:
    choices = [("", "No category")]

    def walk(nodes: list[CategoryNode], depth: int) -> None:
        for node in nodes:
            indent = EM_SPACE * depth
            choices.append((str(node.id), f"{indent}{node.icon + ' ' if node.icon else ''}{node.name}"))
            walk(node.children, depth + 1)

    walk(tree, 0)
    return choices


def unix_lines(text: str) -> str:
    # Browsers send a textarea's line breaks as CR LF; everything else speaks LF.
    return text.replace("\r\n", "\n")


def tag_list(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


class EntryForm(forms.Form):
    """What every type has; subclasses add the type's own fields (FIELDS go into Entry.fields)."""

    type: ClassVar[str]
    FIELDS: ClassVar[tuple[str, ...]] = ()
    # Secret fields: never shown back; left empty on an edit, the saved value stays.
    SECRETS: ClassVar[tuple[str, ...]] = ()

    title = forms.CharField(max_length=TITLE_MAX_LENGTH, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    category = forms.ChoiceField(required=False)
    tags = forms.CharField(
        required=False, max_length=2000, help_text="Separate tags with commas.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "tag-names"}),
    )  # fmt: skip
    status = forms.ChoiceField(
        choices=[(Status.ACTIVE, "Active"), (Status.DRAFT, "Draft"), (Status.ARCHIVED, "Archived")],
        initial=Status.ACTIVE,
    )
    expires_at = local_datetime_field("Move to the trash on", "Optional: the entry goes to the trash then by itself.")
    is_sensitive = forms.BooleanField(
        required=False, label="Sensitive",
        help_text="Encrypt the content and details too (the title stays searchable); showing them is logged.",
    )  # fmt: skip
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        tree: list[CategoryNode],
        editing: bool = False,
        is_owner: bool = True,
        can_manage: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["category"].choices = category_choices(tree)  # type: ignore[attr-defined]
        if not is_owner:
            # Categories are the owner's own: someone the entry is shared with leaves it where it is.
            del self.fields["category"]
        if not can_manage:
            # The entry's state (archived, when it goes to the trash) is its owner's and administrators'.
            del self.fields["status"], self.fields["expires_at"]
        if editing:
            self.fields["version"].required = True  # an edit always says which version it started from
        else:
            self.fields["title"].widget.attrs["data-autofocus"] = ""
        for name in self.SECRETS:
            self.fields[name].required = False
            if editing:
                self.fields[name].help_text = "Leave empty to keep the saved one."

    @classmethod
    def initial_for(cls, entry: Entry, *, content: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Form values for ENTRY (CONTENT and FIELDS as read, sealed ones revealed by the caller)."""
        initial: dict[str, Any] = {
            "title": entry.title,
            "category": str(entry.category_id or ""),
            "tags": ", ".join(sorted((tag.name for tag in entry.tags.all()), key=str.lower)),
            "status": entry.status,
            "expires_at": timezone.localtime(entry.expires_at) if entry.expires_at else None,
            "is_sensitive": entry.is_sensitive,
            "version": entry.version,
            "content": content,
        }
        for name in cls.FIELDS:
            if name not in cls.SECRETS:
                initial[name] = cls.show(name, fields.get(name))
        return initial

    @staticmethod
    def show(name: str, value: Any) -> Any:
        return value

    def value_for(self, name: str, value: Any) -> Any:
        """A cleaned form value as Entry.fields stores it."""
        if isinstance(value, str):
            return unix_lines(value)
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return value

    def changes(self) -> dict[str, Any]:
        """The cleaned form as keyword arguments for create_entry / update_entry's changes."""
        data = self.cleaned_data
        fields = {}
        for name in self.FIELDS:
            value = data.get(name)
            if name in self.SECRETS and self.editing and not value:
                continue  # kept as saved
            fields[name] = self.value_for(name, value)
        changes: dict[str, Any] = {
            "title": data["title"],
            "tags": tag_list(data.get("tags") or ""),
            "is_sensitive": bool(data.get("is_sensitive")),
            "fields": fields,
        }
        if "status" in self.fields:
            changes["status"] = data.get("status") or Status.ACTIVE
            changes["expires_at"] = data.get("expires_at")
        if "category" in self.fields:
            changes["category"] = data.get("category") or None
        if "content" in self.fields:
            changes["content"] = unix_lines(data.get("content") or "")
        return changes

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's errors ("fields.url", "title") on the inputs they name."""
        for key, messages in error.message_dict.items():
            name = key.removeprefix("fields.")
            self.add_error(name if name in self.fields else None, messages)

    def detail_fields(self) -> list[forms.BoundField]:
        """The type's own inputs, in order (the template lays out the common ones itself)."""
        return [self[name] for name in self.FIELDS if name in self.fields]


class NoteForm(EntryForm):
    type = EntryType.NOTE
    content = forms.CharField(
        required=False, max_length=1_000_000, strip=False, label="Text",
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "true"}),
    )  # fmt: skip


class PasswordForm(EntryForm):
    type = EntryType.PASSWORD
    FIELDS = ("username", "secret", "url", "totp_seed", "notes")
    SECRETS = ("secret", "totp_seed")
    username = forms.CharField(
        required=False, max_length=300, label="Username or e-mail",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )  # fmt: skip
    secret = forms.CharField(
        required=False, max_length=1024, strip=False, label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "spellcheck": "false"}),
    )  # fmt: skip
    url = forms.CharField(
        required=False, max_length=2000, label="Website",
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
    )  # fmt: skip
    totp_seed = forms.CharField(
        required=False, max_length=256, label="Authenticator secret (TOTP)",
        help_text="The base32 key shown under the QR code, to show six-digit codes here.",
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )  # fmt: skip
    notes = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}))
    remove_totp = forms.BooleanField(required=False, label="Remove the authenticator secret")

    def changes(self) -> dict[str, Any]:
        changes = super().changes()
        if self.cleaned_data.get("remove_totp"):
            changes["fields"]["totp_seed"] = ""
        return changes


class BookmarkForm(EntryForm):
    type = EntryType.BOOKMARK
    FIELDS = ("url", "description")
    url = forms.CharField(
        max_length=2000, label="Address", widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"})
    )
    description = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}))


class TaskForm(EntryForm):
    type = EntryType.TASK
    FIELDS = ("due_at", "priority", "recurrence", "is_done", "notes")
    due_at = local_datetime_field("Due")
    priority = forms.ChoiceField(choices=[("low", "Low"), ("normal", "Normal"), ("high", "High")], initial="normal")
    recurrence = forms.ChoiceField(
        required=False, label="Repeats",
        choices=[("", "Does not repeat"), ("daily", "Every day"), ("weekly", "Every week"), ("monthly", "Every month")],
    )  # fmt: skip
    is_done = forms.BooleanField(required=False, label="Done")
    notes = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 4}))

    @staticmethod
    def show(name: str, value: Any) -> Any:
        if name == "due_at" and value:
            return timezone.localtime(datetime.fromisoformat(value))
        return value

    def value_for(self, name: str, value: Any) -> Any:
        if name == "recurrence":
            return value or None
        return super().value_for(name, value)


class ContactForm(EntryForm):
    type = EntryType.CONTACT
    FIELDS = ("name", "emails", "phones", "organisation", "addresses", "birthday")
    name = forms.CharField(required=False, max_length=300, label="Full name")
    emails = ValuesField(required=False, label="E-mail addresses", widget=ValuesWidget("email", "Add an address"))
    phones = ValuesField(required=False, label="Phone numbers", widget=ValuesWidget("tel", "Add a number"))
    organisation = forms.CharField(required=False, max_length=300)
    addresses = forms.CharField(
        required=False, max_length=20_000, label="Postal addresses", help_text="One address per paragraph.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    birthday = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    @staticmethod
    def show(name: str, value: Any) -> Any:
        if name == "addresses":
            return "\n\n".join(value or [])
        return value

    def value_for(self, name: str, value: Any) -> Any:
        if name == "addresses":
            return [part.strip() for part in (value or "").replace("\r\n", "\n").split("\n\n") if part.strip()]
        return super().value_for(name, value)


class DocumentForm(EntryForm):
    type = EntryType.DOCUMENT
    FIELDS = ("description",)
    description = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 4}))


FORMS: dict[str, type[EntryForm]] = {
    form.type: form for form in (NoteForm, PasswordForm, BookmarkForm, TaskForm, ContactForm, DocumentForm)
}


STATUS_VIEWS: dict[str, tuple[str, list[str]]] = {
    "": ("Active", [Status.ACTIVE, Status.DRAFT]),
    "archived": ("Archived", [Status.ARCHIVED]),
    "draft": ("Drafts", [Status.DRAFT]),
    "all": ("Everything but the trash", []),
}
SORTS: dict[str, str] = {
    "-updated_at": "Recently changed",
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "title": "Title, A to Z",
    "-title": "Title, Z to A",
    "due": "Due date (tasks)",
}


class ListFilters(forms.Form):
    """The entry list's filters, all in the URL (so a view can be bookmarked)."""

    type = forms.ChoiceField(required=False, choices=[("", "All types"), *((t, i.plural) for t, i in TYPES.items())])
    category = forms.UUIDField(required=False)
    status = forms.ChoiceField(required=False, choices=[(key, label) for key, (label, _) in STATUS_VIEWS.items()])
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()))
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def values(self) -> dict[str, Any]:
        """The valid filters (a bad one is ignored, not an error page)."""
        self.is_valid()
        data = dict(self.cleaned_data)
        given = self.data.getlist("tag") if isinstance(self.data, QueryDict) else []
        data["tags"] = [tag for tag in given if tag.strip()][:10]
        return data


class SearchFilters(ListFilters):
    q = forms.CharField(
        required=False,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": "A search can be at most %(limit_value)d characters; this one has %(show_value)d."
        },
    )

    def clean_q(self) -> str:
        q = str(self.cleaned_data.get("q") or "")
        cleaned = search_query.clean_query(q)
        if cleaned and (problem := search_query.query_problem(cleaned)):  # an empty box is the blank page
            raise ValidationError(problem)
        return q


BULK_ACTIONS = {
    "tag": "Add tags",
    "untag": "Remove tags",
    "move": "Move to category",
    "archive": "Archive",
    "restore": "Make active",
    "trash": "Move to the trash",
}


class BulkForm(forms.Form):
    """A bulk change: ACTION on the entries whose ids come as repeated `ids` values."""

    action = forms.ChoiceField(choices=list(BULK_ACTIONS.items()))
    tags = forms.CharField(required=False, max_length=2000)
    category = forms.CharField(required=False, max_length=64)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        ids = []
        for value in self.data.getlist("ids") if isinstance(self.data, QueryDict) else []:
            try:
                ids.append(str(uuid.UUID(value)))
            except ValueError:
                raise ValidationError("Some of the selected entries are not valid; reload the page.") from None
        if not ids:
            raise ValidationError("Select some entries first.")
        cleaned["ids"] = ids
        return cleaned
