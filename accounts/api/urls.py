from accounts.api import views
from personalpod.routing import api_path

urlpatterns = [
    *api_path("auth/signup", views.SignUpView.as_view(), name="auth-signup"),
    *api_path("auth/login", views.LoginView.as_view(), name="auth-login"),
    *api_path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    *api_path("auth/password", views.PasswordChangeView.as_view(), name="auth-password"),
    *api_path("auth/password-reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    *api_path(
        "auth/password-reset/confirm", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"
    ),
    *api_path("auth/tokens", views.ApiTokensView.as_view(), name="auth-tokens"),
    *api_path("auth/tokens/<uuid:token_id>", views.ApiTokenDetailView.as_view(), name="auth-token"),
    *api_path("me", views.MeView.as_view(), name="me"),
    *api_path("me/search-languages", views.SearchLanguagesView.as_view(), name="me-search-languages"),
    *api_path("me/sessions", views.SessionsView.as_view(), name="me-sessions"),
    *api_path("me/sessions/revoke-others", views.RevokeOtherSessionsView.as_view(), name="me-sessions-revoke-others"),
    *api_path("me/sessions/<str:session_id>", views.SessionDetailView.as_view(), name="me-session"),
    *api_path("activity", views.ActivityView.as_view(), name="activity"),
]
