"""A case's completed check-ins as a list, and one check-in's answers in words, for the case's therapist.

The list reads no answer (who, which check-in, when, the stored total). The answers of one check-in
are read through ``selectors.administration_answers_read``, which decides who may read them and
records the read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404

from rapport.clients.models import Case
from rapport.measures import instruments
from rapport.measures.instruments import Instrument, UnknownInstrument
from rapport.measures.models import Administration, AdministrationStatus


def case_checkins_completed(case: Case) -> list[Administration]:
    """The case's completed check-ins, newest first, without their answers. The caller scoped the case."""
    return list(
        Administration.objects.filter(case=case, status=AdministrationStatus.COMPLETED, submitted_at__isnull=False)
        .select_related("client")
        .defer("answers")
        .order_by("-submitted_at", "-id")
    )


def case_checkin_get(case: Case, public_id: uuid.UUID | str) -> Administration:
    """One completed check-in of ``case``; 404 for any other id (another case's included)."""
    try:
        return Administration.objects.select_related("client", "case__primary_therapist", "practice").get(
            case=case, public_id=public_id, status=AdministrationStatus.COMPLETED
        )
    except (Administration.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such check-in in this case.") from None


def instrument_name(key: str) -> str:
    try:
        return instruments.load(key).name
    except UnknownInstrument:
        return key


@dataclass(frozen=True)
class AnswerLine:
    number: str
    question: str  # the item's wording in the instrument file, or its topic when the wording is not shipped
    answer: str | None  # the option's label or the text written; None when left unanswered
    free_text: bool


def answer_lines(instrument: Instrument, answers: dict[str, Any]) -> list[AnswerLine]:
    """Every item of the instrument, in order, with the client's answer in words."""
    lines = []
    for item in instrument.items:
        value = answers.get(item.id)
        if item.kind == "text":
            answer = value if isinstance(value, str) and value.strip() else None
        else:
            answer = next((f"{option.label}" for option in item.options if option.value == value), None) if value is not None else None
        lines.append(
            AnswerLine(number=item.number, question=item.text or item.topic or item.id, answer=answer, free_text=item.kind == "text")
        )
    return lines
