from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("reset/<str:uidb64>/<str:token>/", views.password_reset_confirm, name="password-reset-confirm"),
    path("sessions/", views.sessions_page, name="sessions"),
    path("sessions/revoke-others/", views.revoke_other_sessions, name="sessions-revoke-others"),
    path("sessions/<str:session_id>/revoke/", views.revoke_session, name="session-revoke"),
    path("tokens/", views.tokens_page, name="tokens"),
    path("tokens/<str:token_id>/revoke/", views.revoke_token, name="token-revoke"),
    path("profile/", views.profile, name="profile"),
]
