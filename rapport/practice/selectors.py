from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from rapport.accounts.models import STAFF_ROLES, User
from rapport.practice.models import Practice, Service, StaffInvitation, Therapist


def public_practice() -> Practice | None:
    """The practice whose site this installation shows: RAPPORT_PRACTICE_SLUG, else the first one."""
    slug = getattr(settings, "RAPPORT_PRACTICE_SLUG", "")
    practices = Practice.objects.order_by("created_at", "id")
    return practices.filter(slug=slug).first() if slug else practices.first()


def services_offered(practice: Practice) -> QuerySet[Service]:
    return Service.objects.filter(practice=practice, is_active=True)


def therapists_listed(practice: Practice) -> QuerySet[Therapist]:
    return Therapist.objects.filter(practice=practice, is_active=True)


def staff_of(practice: Practice) -> QuerySet[User]:
    return User.objects.filter(practice=practice, role__in=STAFF_ROLES).select_related("therapist").order_by("full_name")


def invitations_pending(practice: Practice) -> QuerySet[StaffInvitation]:
    return StaffInvitation.objects.filter(practice=practice, accepted_at__isnull=True, revoked_at__isnull=True)


def staff_member_get(practice: Practice, public_id: uuid.UUID) -> User:
    """A staff member of this practice, or 404: another practice's staff are not even named."""
    member = User.objects.filter(practice=practice, role__in=STAFF_ROLES, public_id=public_id).first()
    if member is None:
        raise Http404("No such staff member")
    return member


def invitation_pending_get(practice: Practice, public_id: uuid.UUID) -> StaffInvitation:
    invitation = invitations_pending(practice).filter(public_id=public_id).first()
    if invitation is None:
        raise Http404("No such invitation")
    return invitation


def supervisees_of(supervisor: User) -> QuerySet[Therapist]:
    """The therapists this user supervises, in their own practice, by name."""
    if supervisor.practice_id is None:
        return Therapist.objects.none()
    practice_id = supervisor.practice_id
    return Therapist.objects.filter(
        supervisions__supervisor=supervisor, practice_id=practice_id, supervisions__practice_id=practice_id
    ).order_by("display_name", "id")
