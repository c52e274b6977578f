"""The one check of an uploaded logo in a form (the camera's render settings, a share's logo)."""

from __future__ import annotations

from django import forms

from batches import watermark


class LogoUploadMixin:
    """For a form with a `logo` file field: the upload must be a usable PNG; its bytes
    are kept in `self.logo_data` (None when nothing was uploaded) for `save()`."""

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        self.logo_data = None
        if upload:
            data = upload.read(watermark.MAX_BYTES + 1)
            try:
                watermark.check_png(data)
            except watermark.WatermarkError as exc:
                raise forms.ValidationError(str(exc)) from exc
            self.logo_data = data
        return upload
