from django.urls import URLPattern

from personalpod.routing import api_path
from portability.api import views

urlpatterns: list[URLPattern] = [
    *api_path("exports", views.ExportsView.as_view(), name="exports"),
    *api_path("exports/<uuid:export_id>", views.ExportView.as_view(), name="export"),
    *api_path("exports/<uuid:export_id>/download", views.ExportDownloadView.as_view(), name="export-download"),
    *api_path("imports", views.ImportsView.as_view(), name="imports"),
    *api_path("imports/<uuid:import_id>", views.ImportView.as_view(), name="import"),
    *api_path("imports/<uuid:import_id>/confirm", views.ImportConfirmView.as_view(), name="import-confirm"),
    *api_path("imports/<uuid:import_id>/undo", views.ImportUndoView.as_view(), name="import-undo"),
]
