"""The screens of a check-in as a client answers it: one question per screen, then a review.

Shared by the one-time link page and the portal page, so both ask the same way. It decides what
each screen shows and turns a posted screen into the answers to save; whether a value is allowed
is ``answers_save``'s call alone (it names the item and the values it takes), so a tampered form
gets the same refusal from every page.

A question is optional when it is not part of any score (the PHQ-9's "how difficult" question, the
free-text lines of our own check-ins): the client may skip it. A scored question needs an answer
to go on, so a total is never estimated because a button was pressed too soon.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms

from rapport.measures.instruments import Instrument, Item

REVIEW = "review"
NEXT, BACK, SKIP, SEND = "next", "back", "skip", "send"

CHOOSE_ONE = "Please choose an answer to go on."
NOT_SKIPPABLE = "This question needs an answer; it cannot be skipped."
UNKNOWN_BUTTON = "Please use the buttons on the page."
_INTEGER = re.compile(r"^-?\d{1,6}$")

Step = int | str  # a question's position (from 1), or REVIEW


@dataclass(frozen=True)
class Choice:
    value: int
    label: str
    checked: bool


@dataclass(frozen=True)
class Question:
    item: Item
    position: int  # from 1
    count: int
    optional: bool
    choices: tuple[Choice, ...]  # empty for a free-text question
    text: str  # the free text saved so far

    @property
    def is_text(self) -> bool:
        return self.item.kind == "text"

    @property
    def is_last(self) -> bool:
        return self.position == self.count


@dataclass(frozen=True)
class ReviewLine:
    position: int
    item: Item
    answer: str | None  # the chosen option's label or the text; None when not answered
    optional: bool


def is_optional(item: Item) -> bool:
    return not item.scored


def question(instrument: Instrument, position: int, answers: Mapping[str, Any]) -> Question:
    item = instrument.items[position - 1]
    saved = answers.get(item.id)
    return Question(
        item=item,
        position=position,
        count=len(instrument.items),
        optional=is_optional(item),
        choices=tuple(Choice(value=o.value, label=o.label, checked=saved == o.value) for o in item.options),
        text=saved if isinstance(saved, str) else "",
    )


def review(instrument: Instrument, answers: Mapping[str, Any]) -> list[ReviewLine]:
    lines = []
    for position, item in enumerate(instrument.items, start=1):
        saved = answers.get(item.id)
        if isinstance(saved, str):
            answer: str | None = saved
        else:
            answer = next((o.label for o in item.options if o.value == saved), None) if saved is not None else None
        lines.append(ReviewLine(position=position, item=item, answer=answer, optional=is_optional(item)))
    return lines


def missing_required(instrument: Instrument, answers: Mapping[str, Any]) -> list[ReviewLine]:
    return [line for line in review(instrument, answers) if line.answer is None and not line.optional]


def parse_step(raw: str | None, instrument: Instrument) -> Step | None:
    """The screen a URL asks for; None when it asks for none (or for one that does not exist)."""
    if raw == REVIEW:
        return REVIEW
    if raw and raw.isdigit() and 1 <= int(raw) <= len(instrument.items):
        return int(raw)
    return None


def resume_step(instrument: Instrument, answers: Mapping[str, Any]) -> Step:
    """Where a client who comes back carries on: the first scored question left unanswered, else
    the question after the last one answered, else the review."""
    missing = missing_required(instrument, answers)
    if missing:
        return missing[0].position
    answered = [n for n, item in enumerate(instrument.items, start=1) if item.id in answers]
    last = max(answered, default=0)
    return last + 1 if last < len(instrument.items) else REVIEW


def step_after(action: str, step: Step, instrument: Instrument) -> Step:
    count = len(instrument.items)
    if step == REVIEW:
        return count if action == BACK else REVIEW
    assert isinstance(step, int)
    if action == BACK:
        return max(1, step - 1)
    return step + 1 if step < count else REVIEW


def _value(instrument: Instrument, item_id: str, raw: str) -> object:
    """The posted text as the service expects it: free text as text, a choice as its integer value.

    Anything else is passed on as it came, for the service to refuse with its own message.
    """
    item = next((i for i in instrument.items if i.id == item_id), None)
    if item is not None and item.kind == "text":
        return raw
    return int(raw) if _INTEGER.match(raw.strip()) else raw


class AnswerForm(forms.Form):
    """One posted screen: which button, which question, and the answer given (if any)."""

    action = forms.ChoiceField(choices=[(a, a) for a in (NEXT, BACK, SKIP, SEND)], error_messages={"invalid_choice": UNKNOWN_BUTTON})
    item = forms.CharField(required=False, max_length=64)
    # Not limited here: answers_save refuses text over its limit with its own message.
    answer = forms.CharField(required=False, strip=False)

    def __init__(self, *args: Any, instrument: Instrument, step: Step, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.step = step
        self.fields["action"].error_messages["required"] = UNKNOWN_BUTTON

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        action = cleaned.get("action")
        if action is None:
            return cleaned
        cleaned["answers"] = {}
        if action == SEND or self.step == REVIEW:
            return cleaned
        assert isinstance(self.step, int)
        shown = self.instrument.items[self.step - 1]
        item_id = cleaned.get("item") or shown.id
        raw = self.data.get("answer")
        if action == SKIP:
            if not is_optional(shown):
                raise forms.ValidationError(NOT_SKIPPABLE)
            cleaned["answers"] = {item_id: None}
        elif raw is None or (raw.strip() == "" and shown.kind != "text"):
            if action == NEXT and not is_optional(shown):
                raise forms.ValidationError(CHOOSE_ONE)
        else:
            cleaned["answers"] = {item_id: _value(self.instrument, item_id, raw)}
        return cleaned
