"""manage.py apitoken USERNAME --scope read|write [--name N] [--expires-days D]: print a new token once."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api import tokens
from api.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown this once and stored only as a hash)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        parser.add_argument("--name", default="command line")
        parser.add_argument("--expires-days", type=float, default=None, help="Default: never expires.")

    def handle(self, *args, username: str, scope: str, name: str, expires_days: float | None, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; their tokens would not work.")
        if expires_days is not None and expires_days <= 0:
            raise CommandError("--expires-days must be positive.")
        expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token, raw = tokens.issue(user, name, scope, expires)
        self.stderr.write(
            f"Token {token.prefix}… ({scope}) for {username}; copy it now, it is not shown again:"
        )
        self.stdout.write(raw)
