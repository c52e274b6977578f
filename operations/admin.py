"""Admins re-registered up here, where the rules they need live.

The image admin's delete goes the cleanup's way (operations.cleanup.delete_images):
a picture a completed timelapse is made of stays, and a deleted one's file goes too,
through the media-folder guard. Django's own delete would drop the row, leave the file,
and cut the frame out of the batch's record of its video.

The third-party admins we ship are re-registered so every action declares the permission it needs.

django-celery-beat's and django-axes' own actions declare none, so Django offers them to
any staff user who may see the list: a view-only operator could switch the nightly
cleanup off, run any periodic task or wipe the lockout records. The subclasses keep
the packages' screens and give each action the permission it needs.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from batches.protection import in_protective_batch
from captures.admin import ImageAdmin
from captures.models import Image
from operations.cleanup import delete_images


class GuardedImageAdmin(ImageAdmin):
    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Django refuses the whole delete, with this list, when `protected` is not empty:
        # the page an operator sees for any protected relation.
        kept = (
            Image.objects.filter(pk__in=[image.pk for image in objs])
            .annotate(protected=in_protective_batch())
            .filter(protected=True)
            .select_related("camera")
            .order_by("captured_at")
        )
        protected = [
            *protected,
            *(f"{image}: a frame of a completed timelapse of {image.camera}" for image in kept),
        ]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        delete_images([obj.pk])

    def delete_queryset(self, request, queryset):
        delete_images(list(queryset.values_list("pk", flat=True)))


class GuardedPeriodicTaskAdmin(PeriodicTaskAdmin):
    # Running a task is a change too: whoever may edit a task's name and arguments may
    # already have beat run it; nobody else may.
    @admin.action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request, queryset):
        return super().enable_tasks(request, queryset)

    @admin.action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request, queryset):
        return super().disable_tasks(request, queryset)

    @admin.action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request, queryset):
        return super().toggle_tasks(request, queryset)

    @admin.action(description="Run selected tasks", permissions=["change"])
    def run_tasks(self, request, queryset):
        return super().run_tasks(request, queryset)


class GuardedAccessAttemptAdmin(AccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


admin.site.unregister(Image)
admin.site.register(Image, GuardedImageAdmin)
admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, GuardedPeriodicTaskAdmin)
# AccessLog and AccessFailureLog have no actions but Django's "Delete selected", which
# already asks for the delete permission. axes registers nothing with AXES_ENABLE_ADMIN off.
if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, GuardedAccessAttemptAdmin)
