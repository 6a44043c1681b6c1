from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

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
