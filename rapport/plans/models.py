"""A case's treatment plan as rows: versions, items with stable identity, their wordings, agreements,
goal ratings and action steps (docs/plans.md).

An item keeps its identity across versions; its wording lives in revisions, one per change, each
introduced by a plan version. Agreement belongs to a revision, so changing an item resets agreement
on that item only, and an agreement can never be mistaken for one given to other words.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.fields import EncryptedJSONField, EncryptedTextField
from rapport.core.models import BaseModel
from rapport.plans import gas

# Goal Attainment Scaling (Kiresuk & Sherman, 1968): five levels, 0 the expected outcome.
GAS_LEVELS = tuple(range(gas.LOWEST_LEVEL, gas.HIGHEST_LEVEL + 1))


class TreatmentPlan(BaseModel):
    """One per case; its content is the items as of its newest version."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField("clients.Case", on_delete=models.PROTECT, related_name="plan")


class ChangeKind(models.TextChoices):
    PROPOSED = "proposed", "proposed"
    REVISED = "revised", "changed"
    REMOVED = "removed", "removed"


class PlanVersion(BaseModel):
    """One change to the plan: who made it, when, and what it touched.

    ``note`` is written by the service from the change itself ("Goal changed: wording"), never
    free text, so it carries no clinical content and may be listed anywhere the version is.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    change = models.CharField(max_length=16, choices=ChangeKind.choices)
    item = models.ForeignKey("plans.PlanItem", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="planversion_unique_number")]


class ItemKind(models.TextChoices):
    GOAL = "goal", "Goal"
    APPROACH = "approach", "How we work"


class ItemScope(models.TextChoices):
    JOINT = "joint", "Joint"
    INDIVIDUAL = "individual", "Individual"


class PlanItem(BaseModel):
    """A goal or an approach, the same item through all its rewordings.

    ``owner`` is the partner an individual item belongs to; a joint item concerns every client of
    the case (in an individual case, its one client).
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    scope = models.CharField(max_length=16, choices=ItemScope.choices)
    owner = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    added_in = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+", null=True)
    removed_in = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="joint", owner__isnull=True) | models.Q(scope="individual", owner__isnull=False),
                name="planitem_owner_iff_individual",
            )
        ]


class ItemRevision(BaseModel):
    """One wording of an item, introduced by one plan version; earlier ones stay as history.

    ``client_words`` are kept exactly as their author wrote them; ``therapist_framing`` is the
    therapist's own text beside them, which the clients see too. ``gas_levels`` maps "-2".."2" to
    a description of that level, or is None while the goal has no scale.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(PlanItem, on_delete=models.PROTECT, related_name="revisions")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    client_words = EncryptedTextField()
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    therapist_framing = EncryptedTextField(blank=True)
    gas_levels = EncryptedJSONField(null=True, blank=True)
    weight = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["item_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="itemrevision_unique_number"),
            models.CheckConstraint(condition=models.Q(weight__isnull=True) | models.Q(weight__gte=1), name="itemrevision_weight_positive"),
        ]


class Choice(models.TextChoices):
    AGREE = "agree", "I agree"
    TALK = "talk", "I want to talk about it"
    DISAGREE = "disagree", "I don't agree"


class Agreement(BaseModel):
    """One client's answer on one wording of an item; the newest row per client and revision holds."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    revision = models.ForeignKey(ItemRevision, on_delete=models.PROTECT, related_name="agreements")
    choice = models.CharField(max_length=16, choices=Choice.choices)
    comment = EncryptedTextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class RaterRole(models.TextChoices):
    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"


class GoalRating(BaseModel):
    """Where a goal stands on its -2..+2 scale, by one client or by the therapist, on one day.

    ``version`` is the plan version current when the rating was made, so a rating always says
    which wording of the goal it refers to. ``client`` is the rating client (None for the therapist).
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(PlanItem, on_delete=models.PROTECT, related_name="ratings")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rater_role = models.CharField(max_length=16, choices=RaterRole.choices)
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    level = models.SmallIntegerField()
    rated_at = models.DateTimeField()
    appointment = models.ForeignKey("scheduling.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["rated_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=-2, level__lte=2), name="goalrating_level_in_range"),
        ]


class ActionStep(BaseModel):
    """A small step towards a goal between sessions, for one client or (``client`` None) for both."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(PlanItem, on_delete=models.PROTECT, related_name="steps")
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    due_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reflection = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["due_on", "id"]
