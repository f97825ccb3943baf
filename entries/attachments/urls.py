from django.urls import URLPattern, path

from entries.attachments import api
from personalpod.routing import api_path

ATTACHMENT = "entries/<uuid:entry_id>/attachments/<uuid:attachment_id>"

urlpatterns: list[URLPattern] = [
    *api_path("entries/<uuid:entry_id>/attachments", api.AttachmentsView.as_view(), name="attachments"),
    *api_path(ATTACHMENT, api.AttachmentView.as_view(), name="attachment"),
    *api_path(f"{ATTACHMENT}/download", api.AttachmentDownloadView.as_view(), name="attachment-download"),
    *api_path(f"{ATTACHMENT}/thumbnail", api.AttachmentThumbnailView.as_view(), name="attachment-thumbnail"),
    *api_path("me/storage", api.StorageView.as_view(), name="me-storage"),
    # The filesystem's short-lived links: the signature is the permission, as with S3's.
    path("files/<str:token>", api.attachment_file, name="attachment-file"),
]
