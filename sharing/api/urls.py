from personalpod.routing import api_path
from sharing.api import views

urlpatterns = [
    *api_path("shares", views.SharesView.as_view(), name="shares"),
    *api_path("shares/<uuid:share_id>", views.ShareDetailView.as_view(), name="share"),
    *api_path("entries/<uuid:entry_id>/shares", views.EntrySharesView.as_view(), name="entry-shares"),
    *api_path("shared-with-me", views.SharedWithMeView.as_view(), name="shared-with-me"),
    *api_path("shared-with-me/<uuid:entry_id>", views.SharedWithMeEntryView.as_view(), name="shared-with-me-entry"),
    *api_path("links/<str:token>", views.LinkView.as_view(), name="link"),
]
