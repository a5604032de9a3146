from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from jobs.views.assets import static_file

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            redirect_authenticated_user=True,
            next_page="jobs:dashboard",
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    re_path(rf"^{settings.STATIC_URL.strip('/')}/(?P<path>.+)$", static_file, name="static"),
    path("playlists/", include("playlister.web_urls")),
    path("", include("jobs.urls")),
]
