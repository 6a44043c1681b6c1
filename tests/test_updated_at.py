"""``updated_at`` changes with every write of a row, however it is written (rapport.core.models).

The briefing's cache knows a row changed only by its ``updated_at``, so a write that left it
alone would leave a stale page: these pin the rule for ``save()``, ``save(update_fields=...)``
and ``QuerySet.update()``, on a domain model and on the user model (its own manager).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rapport.accounts.models import User
from rapport.clients.models import Case
from tests.personas import World

pytestmark = pytest.mark.django_db


def _backdate(model: type, pk: int) -> None:
    # Older than any write the test makes, so a stamp is always visible as a change.
    model.objects.filter(pk=pk).update(updated_at=timezone.now() - timedelta(days=30))


def _write(model: Any, pk: int, how: str, field: str, value: str) -> None:
    """Write one row the way ``how`` names: a plain save, a save of one field, or a QuerySet.update()."""
    if how == "save":
        model.objects.get(pk=pk).save()
    elif how == "save_some_fields":
        fresh = model.objects.get(pk=pk)
        setattr(fresh, field, value)
        fresh.save(update_fields=[field])
    else:
        model.objects.filter(pk=pk).update(**{field: value})


@pytest.mark.parametrize("how", ["save", "save_some_fields", "queryset_update"])
def test_every_way_of_writing_a_case_stamps_it(world: World, how: str):
    case = world.couple_case
    _backdate(Case, case.pk)
    stale = Case.objects.get(pk=case.pk).updated_at
    _write(Case, case.pk, how, "status", "closed")
    assert Case.objects.get(pk=case.pk).updated_at > stale


def test_an_explicit_stamp_in_an_update_is_kept(world: World):
    then = timezone.now() - timedelta(days=3)
    Case.objects.filter(pk=world.couple_case.pk).update(updated_at=then)
    assert Case.objects.get(pk=world.couple_case.pk).updated_at == then


def test_saving_no_fields_writes_nothing(world: World):
    case = world.couple_case
    _backdate(Case, case.pk)
    stale = Case.objects.get(pk=case.pk)
    stale.save(update_fields=[])
    assert Case.objects.get(pk=case.pk).updated_at == stale.updated_at


@pytest.mark.parametrize("how", ["save_some_fields", "queryset_update"])
def test_the_user_model_is_stamped_too(world: World, how: str):
    user = world.user("therapist_a")
    _backdate(User, user.pk)
    stale = User.objects.get(pk=user.pk).updated_at
    _write(User, user.pk, how, "full_name", "Theo Renamed")
    assert User.objects.get(pk=user.pk).updated_at > stale
