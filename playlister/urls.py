from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

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
    path("playlists/", include("playlister.web_urls")),
    path("", include("jobs.urls")),
]

# JSON with a message on the API's paths, Django's pages elsewhere (jobs.views.errors).
handler400 = "jobs.views.errors.bad_request"
handler403 = "jobs.views.errors.permission_denied"
handler404 = "jobs.views.errors.page_not_found"
handler500 = "jobs.views.errors.server_error"
