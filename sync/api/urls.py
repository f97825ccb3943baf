from personalpod.routing import api_path
from sync.api import views

urlpatterns = [
    *api_path("sync/pull", views.PullView.as_view(), name="sync-pull"),
    *api_path("sync/push", views.PushView.as_view(), name="sync-push"),
    *api_path("devices", views.DevicesView.as_view(), name="devices"),
    *api_path("devices/<uuid:device_id>", views.DeviceView.as_view(), name="device"),
]
