"""The admin's form for a new consent version: the text, a few item rows, and the material flag."""

from __future__ import annotations

from typing import Any

from django import forms

from rapport.consents.services import ItemSpec

# Rows beyond the current items, for items the admin adds; more means publishing twice.
BLANK_ROWS = 2
MAX_ROWS = 20


class ConsentVersionForm(forms.Form):
    content = forms.CharField(label="What the client reads first", widget=forms.Textarea(attrs={"rows": 8}), max_length=20_000)
    material = forms.BooleanField(
        label="Material change: ask clients who signed an earlier version to sign again",
        required=False,
        help_text="Leave this ticked unless the change is only wording that does not change what anyone agrees to.",
    )


class ConsentItemRowForm(forms.Form):
    key = forms.CharField(label="Key", required=False, max_length=64, help_text="e.g. email_reminders")
    text = forms.CharField(label="What the client agrees to", required=False, max_length=2_000, widget=forms.Textarea(attrs={"rows": 2}))
    required = forms.BooleanField(label="Needed for therapy", required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        key, text = cleaned.get("key", "").strip(), cleaned.get("text", "").strip()
        if bool(key) != bool(text):
            raise forms.ValidationError("An item needs both its key and its text; clear both to leave the row out.")
        return cleaned

    def spec(self) -> ItemSpec | None:
        """The item this row describes, or None for a row left blank."""
        key = self.cleaned_data.get("key", "").strip()
        if not key:
            return None
        return ItemSpec(key=key, text=self.cleaned_data["text"], required=self.cleaned_data["required"])


ConsentItemFormSet = forms.formset_factory(ConsentItemRowForm, extra=BLANK_ROWS, max_num=MAX_ROWS, validate_max=True, absolute_max=MAX_ROWS)
