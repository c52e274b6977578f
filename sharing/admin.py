"""Operator screens for shares: create from batches, order, customize, protect, preview."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import connection
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from batches import watermark
from batches.logo_form import LogoUploadMixin
from common import siteurl
from sharing import periods, services
from sharing.models import PeriodVideo, Share, ShareBatch, ShareCustomization, ShareWatermark

DISPLAY_FLAGS = [
    ("show_camera_info", "Camera name"),
    ("show_day_counter", "Day counter range"),
    ("show_date_range", "Date range"),
    ("show_technical_info", "Technical info"),
    ("show_generation_time", "Generation time"),
]


@admin.action(description="Create a share from the selected batches", permissions=["share"])
def create_share_from_batches(modeladmin, request, queryset):
    """Admin action for the batch changelist: share the batches with a video as a draft, then edit it.

    A batch that is re-rendering (or whose re-render failed) still has its published video.

    Needs sharing.add_share (the batch admin's has_share_permission). The share starts
    inactive: it goes public only when someone ticks "Is active" on its form, which needs
    sharing.change_share.
    """
    batches = list(
        queryset.filter(published_path__isnull=False).select_related("camera").order_by("created_at", "pk")
    )
    skipped = queryset.count() - len(batches)
    if not batches:
        modeladmin.message_user(
            request, "None of the selected batches has finished rendering.", messages.ERROR
        )
        return None
    cameras = sorted({batch.camera.name for batch in batches})
    title = f"{cameras[0]} timelapse" if len(cameras) == 1 else "Timelapses"
    share_type = Share.ShareType.VIDEO_ONLY if len(batches) == 1 else Share.ShareType.INFO_PAGE
    share = services.create_share(
        batches,
        title,
        share_type=share_type,
        creator_name=request.user.get_username() or None,
        is_active=False,
    )
    if len(batches) > 1:
        # Two videos on one page must not read alike: each gets its camera, kind and days.
        for link, batch_title in zip(
            share.share_batches.order_by("display_order"), default_titles(batches), strict=True
        ):
            link.custom_title = batch_title
            link.save(update_fields=["custom_title"])
    if skipped:
        modeladmin.message_user(
            request, f"Left out {skipped} batch(es) that are not completed.", messages.WARNING
        )
    modeladmin.message_user(
        request,
        "Share created as a draft (not public yet). Set its title, options and expiry below, "
        'then tick "Is active" to publish it.',
        messages.SUCCESS,
    )
    return HttpResponseRedirect(reverse("admin:sharing_share_change", args=[share.pk]))


def default_titles(batches) -> list[str]:
    """A distinct title per video: "Tower: checkpoint, Day 1-14", with the batch number if two still match."""
    titles = [f"{b.camera.name}: {b.get_batch_type_display().lower()}, {b.describe_days()}" for b in batches]
    repeated = {t for t in titles if titles.count(t) > 1}
    return [f"{t} (#{b.pk})" if t in repeated else t for t, b in zip(titles, batches, strict=True)]


class ShareForm(forms.ModelForm):
    # Write-only: the hash is never sent back to the browser.
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"Set to protect the share with a password (at least {services.SHARE_PASSWORD_MIN_LENGTH} "
        "characters). Leave blank to keep the current one.",
    )
    remove_password = forms.BooleanField(required=False, help_text="Make the share public again.")
    embed_allowed_domains = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Sites allowed to embed /embed/<token>, one per line (e.g. https://blog.example.com "
        "or *.example.com). Empty: any site.",
    )

    class Meta:
        model = Share
        fields = [
            "title",
            "description",
            "share_type",
            "slug",
            "is_active",
            "expires_at",
            "download_enabled",
            "embed_enabled",
            "embed_allowed_domains",
            "creator_name",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["embed_allowed_domains"] = "\n".join(self.instance.embed_allowed_domains or [])

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        problem = services.password_problem(password) if password else None
        if problem:
            raise forms.ValidationError(problem)
        return password

    def clean_embed_allowed_domains(self) -> list[str]:
        domains = [d.strip() for d in self.cleaned_data["embed_allowed_domains"].splitlines() if d.strip()]
        bad = [d for d in domains if not services.is_valid_embed_source(d)]
        if bad:
            raise forms.ValidationError("Not a host name: %(value)s", params={"value": bad[0]})
        return domains

    def save(self, commit=True):
        share = super().save(commit=False)
        if self.cleaned_data.get("remove_password"):
            services.set_password(share, None)
        elif self.cleaned_data.get("password"):
            services.set_password(share, self.cleaned_data["password"])
        if commit:
            share.save()
            self.save_m2m()
        return share


class ShareCustomizationForm(forms.ModelForm):
    """The JSON columns as plain fields, so only valid colours and choices are stored."""

    primary_color = forms.RegexField(
        regex=r"^#(?:[0-9a-fA-F]{3}){1,2}$",
        initial=services.DEFAULT_COLOR,
        help_text="A hex colour like #007bff.",
        error_messages={"invalid": "Use a hex colour like #007bff."},
    )
    theme = forms.ChoiceField(choices=[(t, t.title()) for t in services.THEMES])
    layout = forms.ChoiceField(
        choices=[(v, v.title()) for v in services.LAYOUTS], help_text="Info pages only."
    )

    before_after = forms.BooleanField(
        required=False,
        label="Before/after slider",
        help_text="Info pages only: two pictures of the first video's camera, one over the other.",
    )
    before_date = forms.DateField(
        required=False, help_text="Empty: the first day of the first video (camera's local date)."
    )
    after_date = forms.DateField(required=False, help_text="Empty: the last day of the first video.")

    class Meta:
        model = ShareCustomization
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for flag, label in DISPLAY_FLAGS:
            self.fields[flag] = forms.BooleanField(required=False, label=label)
        theme = services.theme_of_customization(self.instance if self.instance.pk else None)
        self.initial.update(primary_color=theme.primary_color, theme=theme.theme, layout=theme.layout)
        self.initial.update(theme.options)
        self.initial.update(
            before_after=theme.before_after, before_date=theme.before_date, after_date=theme.after_date
        )

    def clean(self):
        data = super().clean()
        before, after = data.get("before_date"), data.get("after_date")
        if before and after and before >= after:
            self.add_error("after_date", "The after day must come after the before day.")
        return data

    def has_changed(self) -> bool:
        # An untouched inline still saves, so every share gets its customization row.
        return True

    def save(self, commit=True):
        custom = super().save(commit=False)
        custom.theme_config = {
            "primary_color": self.cleaned_data["primary_color"],
            "theme": self.cleaned_data["theme"],
        }
        custom.display_options = {flag: self.cleaned_data[flag] for flag, _ in DISPLAY_FLAGS}
        custom.display_options["layout"] = self.cleaned_data["layout"]
        custom.display_options["before_after"] = self.cleaned_data["before_after"]
        for name in ("before_date", "after_date"):
            day = self.cleaned_data[name]
            custom.display_options[name] = day.isoformat() if day else None
        if commit:
            custom.save()
        return custom


class ShareBatchInline(admin.TabularInline):
    model = ShareBatch
    # Django would add an "s" to the model's name: "SHARE BATCHS".
    verbose_name = "video on this share"
    verbose_name_plural = "videos on this share"
    extra = 0
    fields = ["display_order", "timelapse_batch", "custom_title", "show_metadata"]
    # Picked by name (camera, type, days) with the batch admin's search, not by a raw id.
    autocomplete_fields = ["timelapse_batch"]
    ordering = ["display_order", "pk"]


class ShareCustomizationInline(admin.StackedInline):
    model = ShareCustomization
    form = ShareCustomizationForm
    can_delete = False
    min_num = 1
    max_num = 1
    # With max_num 1 the admin heads the inline with the singular name.
    verbose_name = verbose_name_plural = "look and display options"


class ShareWatermarkForm(LogoUploadMixin, forms.ModelForm):
    logo = forms.FileField(
        label="Logo",
        required=False,
        help_text=f"A PNG (transparency kept), at most {watermark.MAX_SIDE} pixels a side; drawn instead of "
        "the camera's logo on this share's period videos. Leave empty to keep the current one.",
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)

    class Meta:
        model = ShareWatermark
        fields = ["position", "width_percent", "opacity"]

    def save(self, commit=True):
        row = super().save(commit=False)
        previous = row.path
        if self.cleaned_data.get("remove_logo"):
            row.path = None
        elif self.logo_data:
            row.path = watermark.save_png(self.logo_data, "shares", str(row.share_id))
        watermark.replace_file(previous, row.path)
        if commit:
            row.save()
        return row


class ShareWatermarkInline(admin.StackedInline):
    """The share's own logo, overriding the camera's (needs sharing.change_share, like the share form)."""

    model = ShareWatermark
    form = ShareWatermarkForm
    can_delete = False
    max_num = 1
    verbose_name = verbose_name_plural = "Share logo"
    fields = ["logo_set", "logo", "remove_logo", "position", "width_percent", "opacity"]
    readonly_fields = ["logo_set"]

    @admin.display(boolean=True, description="Logo set")
    def logo_set(self, row: ShareWatermark) -> bool:
        return bool(row.path)


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    form = ShareForm
    list_display = [
        "title",
        "share_type",
        "is_active",
        "access_type",
        "expires_at",
        "view_count",
        "links",
        "created_at",
    ]
    list_filter = ["share_type", "is_active", "access_type", "download_enabled", "embed_enabled"]
    search_fields = ["title", "description"]
    readonly_fields = ["links", "share_token", "access_type", "view_count", "created_at"]
    inlines = [ShareBatchInline, ShareCustomizationInline, ShareWatermarkInline]
    fieldsets = [
        (None, {"fields": ["title", "description", "share_type", "links", "view_count"]}),
        (
            "Access",
            {"fields": ["is_active", "expires_at", "access_type", "password", "remove_password", "slug"]},
        ),
        (
            "Embedding and download",
            {"fields": ["download_enabled", "embed_enabled", "embed_allowed_domains"]},
        ),
        ("Record", {"fields": ["share_token", "creator_name", "created_at"]}),
    ]

    class Media:
        js = ["sharing/admin.js"]

    @admin.display(description="Link")
    def links(self, share: Share) -> str:
        if not share.pk:
            return "-"
        path = reverse("sharing:page", args=[share.token])
        return format_html(
            '<button type="button" class="button" data-copy="{}">Copy link</button> '
            '<a class="button" href="{}?preview=1" target="_blank" rel="noopener">Preview</a>',
            siteurl.browser_url(path),
            path,
        )

    def get_search_results(self, request, queryset, search_term):
        if search_term and connection.vendor == "postgresql":
            # Full-text search over the trigger-maintained, GIN-indexed column.
            from django.contrib.postgres.search import SearchQuery

            query = SearchQuery(search_term, config="english", search_type="websearch")
            return queryset.filter(search_vector=query), False
        return super().get_search_results(request, queryset, search_term)


class PeriodVideoInline(admin.TabularInline):
    """On the camera page: which self-updating period videos it has, and each one's stable link.

    Ticking "enabled" is a change of a PeriodVideo row, so it needs
    sharing.add_periodvideo / sharing.change_periodvideo (Django's inline checks,
    declared here so the page says which permission a control needs).
    """

    model = PeriodVideo
    extra = 0
    max_num = len(PeriodVideo.Kind.values)
    can_delete = False
    verbose_name = "period video"
    verbose_name_plural = "Period videos (re-rendered on their own when new images arrive)"
    fields = ["kind", "enabled", "link", "last_rendered_at"]
    readonly_fields = ["link", "last_rendered_at"]
    permissions = {"add": "sharing.add_periodvideo", "change": "sharing.change_periodvideo"}

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(self.permissions["add"])

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(self.permissions["change"])

    @admin.display(description="Share link")
    def link(self, period: PeriodVideo) -> str:
        if not period.share_id:
            return "made on the first render"
        url = reverse("admin:sharing_share_change", args=[period.share_id])
        state = "live" if period.share.is_active else "draft: tick Is active to publish"
        return format_html('<a href="{}">{}</a> ({})', url, periods.share_url(period.share), state)
