from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation


class NewPasswordForm(forms.Form):
    """A new password typed twice, with the validators' rules shown under it: the last step of every
    invitation (staff and clients alike)."""

    password1 = forms.CharField(label="Choose a password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False)
    password2 = forms.CharField(
        label="Repeat the password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords do not match.")
        return cleaned
