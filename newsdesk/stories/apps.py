from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Moderators (the group the comments app creates) may also correct stories.
MODERATOR_PERMISSIONS = [("stories", "change_story"), ("stories", "view_story"), ("stories", "view_storyevent")]


def grant_story_permissions(using: str = "default", **kwargs: Any) -> None:
    """Give the "moderators" group the story permissions, after every migrate (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name="moderators")
    for app_label, codename in MODERATOR_PERMISSIONS:
        permission = (
            Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename).first()
        )
        if permission is not None:
            group.permissions.add(permission)


class StoriesConfig(AppConfig):
    name = "newsdesk.stories"
    verbose_name = "Stories and related articles"

    def ready(self) -> None:
        from newsdesk.pipeline import chain

        post_migrate.connect(grant_story_permissions, sender=self, dispatch_uid="newsdesk.stories.moderators")
        chain.register("newsdesk.stories.tasks.PLACE")  # imported when first needed
