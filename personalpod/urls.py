from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from entries.views.pages import home
from personalpod import metrics, views

# Django tries patterns in order, and API paths do not overlap: the busiest come first.
api_v1: list[URLPattern | URLResolver] = [
    path("", views.ApiRoot.as_view(), name="api-root"),
    path("", include("entries.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("sharing.api.urls")),
    path("", include("portability.api.urls")),
    path("", include("sync.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),  # first: most requests are the API's
    path("", home, name="home"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # Staff sign in and out through the same pages (throttled, logged) as everyone else.
    path("admin/login/", views.admin_login_redirect),
    path("admin/logout/", account_views.logout_view),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # Share links: the token is in the path (the request log redacts it, personalpod.logs).
    path("s/", include("sharing.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("entries.urls")),
    path("", include("sharing.web")),
    path("", include("portability.web")),
]

handler400 = "personalpod.errors.bad_request"
handler403 = "personalpod.errors.permission_denied"
handler404 = "personalpod.errors.page_not_found"
handler500 = "personalpod.errors.server_error"
