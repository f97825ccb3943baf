"""The entries web pages (the API is under /api/v1/, in entries.api.urls)."""

from django.urls import path

from entries.views import activity, edit, files, history, organize, pages, search, tools

FILE = "entries/<uuid:entry_id>/files/<uuid:attachment_id>"

app_name = "entries"

urlpatterns = [
    path("entries/", pages.entry_list, name="list"),
    path("entries/new/", edit.new_entry, name="new"),
    path("entries/new/<str:entry_type>/", edit.create_entry, name="create"),
    path("entries/bulk/", pages.bulk, name="bulk"),
    path("entries/preview/", tools.preview, name="preview"),
    path("entries/generate-password/", tools.generate_password, name="generate-password"),
    path("entries/<uuid:entry_id>/", pages.entry_detail, name="detail"),
    path("entries/<uuid:entry_id>/edit/", edit.edit_entry, name="edit"),
    path("entries/<uuid:entry_id>/status/", edit.change_status, name="status"),
    path("entries/<uuid:entry_id>/done/", edit.set_done, name="done"),
    path("entries/<uuid:entry_id>/delete/", edit.delete_forever, name="delete"),
    path("entries/<uuid:entry_id>/reveal/", edit.reveal, name="reveal"),
    path("entries/<uuid:entry_id>/secret/", edit.secret_hidden, name="secret-hidden"),
    path("entries/<uuid:entry_id>/totp/", tools.totp, name="totp"),
    path("entries/<uuid:entry_id>/files/", files.gallery, name="files"),
    path("entries/<uuid:entry_id>/files/upload/", files.upload, name="file-upload"),
    path(f"{FILE}/download/", files.download, name="file-download"),
    path(f"{FILE}/thumbnail/", files.thumbnail, name="file-thumbnail"),
    path(f"{FILE}/preview/", files.preview, name="file-preview"),
    path(f"{FILE}/delete/", files.delete, name="file-delete"),
    path("entries/<uuid:entry_id>/history/", history.history, name="history"),
    path("entries/<uuid:entry_id>/history/<int:version>/restore/", history.restore_version, name="restore-version"),
    path("search/", search.search_page, name="search"),
    path("search/suggest/", search.suggest, name="search-suggest"),
    path("trash/", history.trash, name="trash"),
    path("trash/empty/", history.empty_trash, name="empty-trash"),
    path("categories/", organize.categories, name="categories"),
    path("categories/new/", organize.create_category, name="category-create"),
    path("categories/<uuid:category_id>/", organize.update_category, name="category-update"),
    path("categories/<uuid:category_id>/delete/", organize.delete_category, name="category-delete"),
    path("tags/", organize.tags, name="tags"),
    path("tags/new/", organize.create_tag, name="tag-create"),
    path("tags/<uuid:tag_id>/", organize.update_tag, name="tag-update"),
    path("tags/<uuid:tag_id>/merge/", organize.merge_tag, name="tag-merge"),
    path("tags/<uuid:tag_id>/delete/", organize.delete_tag, name="tag-delete"),
    path("activity/", activity.activity, name="activity"),
]
