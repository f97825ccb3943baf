from django.urls import path

from sharing import views

app_name = "sharing"
urlpatterns = [
    path("<str:token>", views.link_page, name="link"),
    path("<str:token>/", views.link_page),  # as pasted, with a trailing slash
]
