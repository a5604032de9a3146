"""Make sure someone can log in: create the first admin user if there is none."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model

from jobs.cli import OneLineCommand
from playlister.management.commands.devserver import (
    add_address_arguments,
    browser_url,
    shown_path,
)

if TYPE_CHECKING:
    from argparse import ArgumentParser


class Command(OneLineCommand):
    help = "Create an admin user if none exists and say how to log in (at --host/--port)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_address_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        password_file = settings.DATA_DIR / "admin-password.txt"
        username = settings.PLAYLISTER_ADMIN_USERNAME
        if not user_model.objects.filter(is_superuser=True).exists():
            password = settings.PLAYLISTER_ADMIN_PASSWORD or secrets.token_urlsafe(12)
            user_model.objects.create_superuser(username=username, password=password, email="")
            if not settings.PLAYLISTER_ADMIN_PASSWORD:
                password_file.write_text(password + "\n", encoding="utf-8")
                password_file.chmod(0o600)
            self.stdout.write(self.style.SUCCESS(f"Created the admin user '{username}'."))
        if password_file.exists():
            where = f"the password is in {shown_path(password_file)}"
        else:
            where = "with the password you set (manage.py changepassword to reset it)"
        url = browser_url(options["host"], options["port"])
        self.stdout.write(f"Log in at {url} as '{username}' — {where}.")
