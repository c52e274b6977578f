"""Admin for API tokens (shown once, revocable) and webhooks (URL write-only, delivery log)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from api import tokens, webhooks
from api.models import ApiToken, Webhook, WebhookDelivery


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "scope", "state", "expires_at", "last_used_at", "created_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "scope", "expires_at", "prefix", "last_used_at", "revoked_at", "created_at"]
    readonly_fields = ["prefix", "last_used_at", "revoked_at", "created_at"]
    actions = ["revoke_tokens"]

    def get_readonly_fields(self, request, obj=None):
        # A token's owner and scope are what it was issued as; make a new one to change them.
        return [*self.readonly_fields, "user", "scope"] if obj else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A token acts as its user: only a superuser may make one that acts as someone else.
        if db_field.name == "user":
            kwargs["initial"] = request.user.pk
            if not request.user.is_superuser:
                kwargs["queryset"] = db_field.related_model.objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        tokens_shown = super().get_queryset(request).select_related("user")
        return tokens_shown if request.user.is_superuser else tokens_shown.filter(user=request.user)

    @admin.display(description="State")
    def state(self, token: ApiToken) -> str:
        if token.revoked_at:
            return "revoked"
        if token.expires_at and token.expires_at <= timezone.now():
            return "expired"
        return "active"

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        user = obj.user if request.user.is_superuser else request.user
        token, raw = tokens.issue(user, obj.name, obj.scope, obj.expires_at)
        obj.pk, obj.token_hash, obj.prefix, obj.created_at = (
            token.pk,
            token.token_hash,
            token.prefix,
            token.created_at,
        )
        messages.warning(
            request,
            f"Your new API token (copy it now; it is stored only as a hash and not shown again): {raw}",
        )

    @admin.action(
        description="Revoke the selected tokens (they stop working at once)", permissions=["change"]
    )
    def revoke_tokens(self, request: HttpRequest, queryset) -> None:
        for token in queryset:
            tokens.revoke(token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)


class WebhookForm(forms.ModelForm):
    # Write-only like a camera URL: receivers put their own tokens in webhook URLs.
    url = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"size": 80, "autocomplete": "off"}),
        help_text="http:// or https:// only. Not shown again once saved; leave empty to keep the current URL.",
    )
    events = forms.MultipleChoiceField(choices=Webhook.Event.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["url"] = ""

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if not url:
            if not self.instance.pk:
                raise forms.ValidationError("A webhook needs a URL.")
            return self.instance.url
        try:
            webhooks.check_url(url)
        except webhooks.WebhookError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "target", "event_list", "enabled", "delivery_log", "created_at"]

    @admin.display(description="Sends to")
    def target(self, webhook: Webhook) -> str:
        parts = urlsplit(webhook.url)
        return f"{parts.scheme}://{parts.hostname}/…"

    @admin.display(description="Events")
    def event_list(self, webhook: Webhook) -> str:
        labels = dict(Webhook.Event.choices)
        return ", ".join(labels.get(event, event) for event in webhook.events)

    @admin.display(description="Deliveries")
    def delivery_log(self, webhook: Webhook) -> str:
        url = reverse("admin:api_webhookdelivery_changelist") + f"?webhook__id__exact={webhook.pk}"
        return format_html('<a href="{}">log</a>', url)

    def save_model(self, request, obj, form, change):
        new = obj.pk is None
        if new:
            obj.secret_salt = webhooks.new_salt()
        obj.save()
        if new:
            messages.warning(
                request,
                "Signing secret for this webhook (put it in the receiver now; it is not shown again): "
                f"{webhooks.signing_secret(obj)}",
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "webhook", "status", "attempts", "response_status", "last_error", "created_at"]
    list_filter = ["status", "event", "webhook"]
    readonly_fields = [
        "webhook", "event", "payload", "status", "attempts", "response_status", "last_error", "created_at",
        "delivered_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
