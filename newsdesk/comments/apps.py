from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

# What a member of "moderators" may do: act on comments from the page and the admin,
# and block or unblock readers through the Profile admin.
MODERATOR_PERMISSIONS = [
    ("comments", "moderate_comment"),
    ("comments", "view_comment"),
    ("comments", "change_comment"),
    ("comments", "view_report"),
    ("comments", "change_report"),
    ("accounts", "view_profile"),
    ("accounts", "change_profile"),
]


def ensure_moderators_group(using: str = "default", **kwargs: Any) -> None:
    """Create the "moderators" group with its permissions, after every migrate.

    Run from post_migrate because permissions exist only once Django's own
    post_migrate handler has created them; idempotent, so it never undoes additions an
    administrator made to the group.
    """
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name="moderators")
    for app_label, codename in MODERATOR_PERMISSIONS:
        permission = (
            Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename).first()
        )
        if permission is not None:
            group.permissions.add(permission)


class CommentsConfig(AppConfig):
    name = "newsdesk.comments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(ensure_moderators_group, sender=self, dispatch_uid="newsdesk.comments.moderators")
