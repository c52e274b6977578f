from django.contrib import admin

from sharing.models import Share, ShareBatch, ShareCustomization


class ShareBatchInline(admin.TabularInline):
    model = ShareBatch
    extra = 0
    raw_id_fields = ["timelapse_batch"]


class ShareCustomizationInline(admin.StackedInline):
    model = ShareCustomization
    can_delete = False


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ["title", "share_type", "is_active", "expires_at", "view_count", "created_at"]
    list_filter = ["share_type", "is_active", "access_type", "download_enabled", "embed_enabled"]
    search_fields = ["title", "description"]
    readonly_fields = ["share_token", "view_count", "created_at"]
    inlines = [ShareBatchInline, ShareCustomizationInline]

    def get_search_results(self, request, queryset, search_term):
        from django.db import connection

        if search_term and connection.vendor == "postgresql":
            # Full-text search over the trigger-maintained, GIN-indexed column.
            from django.contrib.postgres.search import SearchQuery

            return queryset.filter(search_vector=SearchQuery(search_term, config="english")), False
        return super().get_search_results(request, queryset, search_term)
