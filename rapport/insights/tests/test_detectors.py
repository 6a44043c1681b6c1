"""The detectors on hand-made courses (each expected figure worked out in the test) and properties by hypothesis."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rapport.insights.detectors import (
    AllianceCheckin,
    ChangeRule,
    CheckinDue,
    ExpectedTrack,
    GoalHistory,
    Kind,
    NotOnTrackSettings,
    Observation,
    OutcomeSeries,
    RiskAnswer,
    SessionOutcome,
    Severity,
    SplitSettings,
    WrittenNote,
    alliance_rupture,
    disengagement,
    goal_stagnation,
    not_on_track,
    reliable_deterioration,
    risk_answers,
    split_alliance,
    words_versus_scores,
)

START = date(2026, 3, 2)
PHQ9_RULE = ChangeRule(points=6, source="NHS Talking Therapies manual: a change of 6 or more on the PHQ-9")


def _weekly(i: int) -> date:
    return START + timedelta(weeks=i)


def _alliance(totals: list[float], *, items: list[dict[str, float]] | None = None) -> list[AllianceCheckin]:
    """Check-ins a week apart; unless given, each item is a third of the total (never low for totals above 15)."""
    return [
        AllianceCheckin(
            on=_weekly(i), total=t, items=(items[i] if items else dict.fromkeys(("goals", "tasks", "bond"), t / 3)), session=f"s{i}"
        )
        for i, t in enumerate(totals)
    ]


def _phq9(values: list[float]) -> OutcomeSeries:
    return OutcomeSeries(
        instrument="phq9",
        name="PHQ-9",
        points=[Observation(_weekly(i), v, "") for i, v in enumerate(values)],
        rule=PHQ9_RULE,
        cutoff=10,
    )


# --- Alliance rupture ---


def test_a_drop_of_five_points_from_a_flat_history_is_a_possible_rupture():
    # Earlier 27, 27, 27: mean 27, SD 0 floored to 3 (10% of 30). 22 is a drop of 5 points, 1.7 SD.
    [finding] = alliance_rupture(_alliance([27, 27, 27, 22]), subject="c1")
    assert (finding.kind, finding.severity, finding.on) == (Kind.RUPTURE, Severity.MEDIUM, _weekly(3))
    assert finding.rules[0].design is True
    assert ("drop in SDs", 1.7) in finding.rules[0].parameters
    assert finding.key == f"alliance_rupture:c1::{_weekly(3).isoformat()}"


def test_a_drop_of_two_sds_is_marked_and_a_return_to_the_mean_settles_it():
    # Earlier 24, 27, 30: mean 27, population SD sqrt(6) = 2.449, floored to 3. 21 is 2 SDs down.
    [finding] = alliance_rupture(_alliance([24, 27, 30, 21, 25, 28]), subject="c1")
    assert finding.severity == Severity.HIGH
    # The next check-in (25) is below the mean of 27; the one after (28) is within two sessions.
    assert finding.settled_on == _weekly(5)


def test_a_drop_short_of_five_points_or_of_one_sd_is_no_finding():
    # 4.5 points is 1.5 floored SDs but under the 5-point minimum.
    assert alliance_rupture(_alliance([27, 27, 27, 22.5]), subject="c1") == []
    # Earlier 18, 30, 18, 30: SD 6; a fall of 5.5 from the mean of 24 is under 1 SD.
    assert alliance_rupture(_alliance([18, 30, 18, 30, 18.5]), subject="c1") == []


def test_too_short_a_history_only_counts_low_items():
    assert alliance_rupture(_alliance([30, 30, 18]), subject="c1") == []
    low = {"goals": 9, "tasks": 9, "bond": 3}
    [finding] = alliance_rupture(_alliance([21], items=[low]), subject="c1")
    assert finding.severity == Severity.MEDIUM
    assert [e.label for e in finding.evidence] == ["rating of the bond"]
    assert "a low rating of the bond" in finding.summary


@given(st.floats(min_value=0, max_value=30), st.integers(min_value=1, max_value=12))
def test_a_constant_series_never_raises_a_rupture(total, length):
    items = dict.fromkeys(("goals", "tasks", "bond"), 10.0)
    assert alliance_rupture(_alliance([total] * length, items=[items] * length), subject="c1") == []


@given(
    st.lists(st.floats(min_value=10, max_value=30), min_size=3, max_size=8),
    st.floats(min_value=0, max_value=30),
    st.floats(min_value=0, max_value=30),
)
def test_a_bigger_drop_never_lowers_severity(history, smaller_drop, extra):
    mean = sum(history) / len(history)
    items = dict.fromkeys(("goals", "tasks", "bond"), 10.0)

    def severity_at(total: float) -> int:
        course = _alliance([*history, total], items=[items] * (len(history) + 1))
        return max((f.severity for f in alliance_rupture(course, subject="c") if f.on == course[-1].on), default=0)

    assert severity_at(mean - smaller_drop - extra) >= severity_at(mean - smaller_drop)


# --- Split alliance ---


def test_partners_more_than_a_quarter_of_the_range_apart_are_a_split():
    # Threshold 25% of 30 = 7.5; a gap of 8 is MEDIUM, a gap of 16 (over 15) is HIGH.
    first = _alliance([28, 28])
    second = _alliance([20, 12])
    findings = split_alliance(first, second, subject="case")
    assert [(f.on, f.severity) for f in findings] == [(_weekly(0), Severity.MEDIUM), (_weekly(1), Severity.HIGH)]
    assert [e.value for e in findings[1].evidence] == [8, 16]


def test_moving_in_opposite_directions_is_a_split_even_when_close():
    # Gaps 4 then 6 (under 7.5), but one rose 5 and the other fell 5 (each at least 4.5 = 15% of 30).
    [finding] = split_alliance(_alliance([20, 25]), _alliance([24, 19]), subject="case")
    assert finding.on == _weekly(1)
    assert [r.key for r in finding.rules] == ["split_opposite"]


def test_a_published_standard_error_sets_the_band():
    # 1.96 * sqrt(2) * 2 = 5.54: a gap of 6 is over it.
    [finding] = split_alliance(_alliance([28]), _alliance([22]), subject="case", settings=SplitSettings(standard_error=2))
    assert ("threshold", 5.5) in finding.rules[0].parameters


@given(st.lists(st.floats(min_value=0, max_value=30), min_size=1, max_size=10))
def test_partners_who_answer_alike_are_never_split(totals):
    assert split_alliance(_alliance(totals), _alliance(totals), subject="case") == []


def test_only_shared_sessions_are_compared():
    first = _alliance([28, 28])
    second = [AllianceCheckin(on=_weekly(5), total=10, items={}, session="elsewhere")]
    assert split_alliance(first, second, subject="case") == []


# --- Reliable deterioration and not on track ---


def test_deterioration_by_the_fixed_phq9_threshold_once_per_stretch():
    # From 8: 14 is +6 (reliable), 15 still worse (same stretch), 10 not, 21 is +13 (a new stretch, HIGH).
    findings = reliable_deterioration(_phq9([8, 14, 15, 10, 21]), subject="c1")
    assert [(f.on, f.severity) for f in findings] == [(_weekly(1), Severity.MEDIUM), (_weekly(4), Severity.HIGH)]
    assert findings[0].rules[0].key == "fixed_threshold"
    assert findings[0].rules[0].design is False
    assert findings[0].topic == "phq9"


def test_jacobson_truax_decides_without_a_fixed_threshold():
    # SD 5, r 0.84: S_diff = 5 * sqrt(2) * sqrt(0.16) = 2.828; reliable at 1.96 * 2.828 = 5.54.
    rule = ChangeRule(sd=5, reliability=0.84, source="a fictional norm")
    series = OutcomeSeries("x", "Scale", [Observation(_weekly(0), 10, ""), Observation(_weekly(1), 15.6, "")], rule)
    [finding] = reliable_deterioration(series, subject="c1")
    assert finding.rules[0].key == "jacobson_truax"
    no = OutcomeSeries("x", "Scale", [Observation(_weekly(0), 10, ""), Observation(_weekly(1), 15.5, "")], rule)
    assert reliable_deterioration(no, subject="c1") == []


@given(st.integers(min_value=0, max_value=27), st.integers(min_value=1, max_value=10))
def test_a_flat_course_never_deteriorates(score, length):
    assert reliable_deterioration(_phq9([score] * (length + 1)), subject="c1") == []


def test_little_improvement_after_six_scores_is_not_on_track():
    # The 5th and 6th scores after the first average 14.5: 1.5 better than 16, under half of 6.
    [finding] = not_on_track(_phq9([16, 16, 15, 15, 14, 15, 14]), subject="c1")
    assert finding.on == _weekly(6)
    assert finding.rules[0].key == "little_improvement"
    # 12 and 11 average 11.5, 4.5 better: at least half a reliable change, so on track.
    assert not_on_track(_phq9([16, 15, 14, 13, 12, 12, 11]), subject="c1") == []
    # Below the cut-off at the start, no improvement is asked for.
    assert not_on_track(_phq9([8, 8, 8, 8, 8, 8, 8]), subject="c1") == []
    assert not_on_track(_phq9([16, 16, 16, 16, 16, 16]), subject="c1") == []


def test_an_expected_track_needs_two_sessions_above_it_in_a_row():
    track = ExpectedTrack(upper={1: 20, 2: 18, 3: 16, 4: 14, 5: 12}, percentile=75, source="a fictional practice's own courses")
    settings = NotOnTrackSettings(expected=track)
    # Above at sessions 2 (19 > 18), not at 3 (15), above at 4 (15 > 14) and 5 (13 > 12).
    [finding] = not_on_track(_phq9([18, 19, 15, 15, 13]), subject="c1", settings=settings)
    assert finding.on == _weekly(4)
    assert [e.value for e in finding.evidence] == [15, 13]
    assert finding.rules[0].source == "a fictional practice's own courses"


# --- Risk, engagement, goals, words ---


def test_risk_answers_are_high_and_say_what_to_do():
    [finding] = risk_answers([RiskAnswer(_weekly(0), "c1", "PHQ-9", "9", acknowledged=False, topic="alert-1")])
    assert finding.severity == Severity.HIGH
    assert "today" in finding.next_step
    assert finding.key.endswith(f":alert-1:{_weekly(0).isoformat()}")


def test_two_missed_checkins_and_an_unrebooked_no_show():
    checkins = [CheckinDue(_weekly(i), done) for i, done in enumerate([True, False, False, False, True, False])]
    sessions = [
        SessionOutcome(_weekly(0), "attended"),
        SessionOutcome(_weekly(2), "late_cancel", rebooked=True),
        SessionOutcome(_weekly(3), "no_show"),
    ]
    findings = disengagement(sessions, checkins, subject="c1")
    assert [(f.on, f.rules[0].key, f.severity) for f in findings] == [
        (_weekly(2), "missed_checkins", Severity.LOW),
        (_weekly(3), "missed_sessions", Severity.LOW),
    ]


def test_two_no_shows_in_a_row_are_medium_even_when_rebooked():
    sessions = [SessionOutcome(_weekly(0), "no_show", rebooked=True), SessionOutcome(_weekly(1), "no_show", rebooked=True)]
    [finding] = disengagement(sessions, [], subject="c1")
    assert finding.severity == Severity.MEDIUM
    assert [e.label for e in finding.evidence] == ["no show", "no show"]


def test_a_goal_flat_below_expected_across_three_sessions_stagnates():
    ratings = [Observation(_weekly(i), v, "") for i, v in enumerate([-2, -1, -1, -1])]
    goal = GoalHistory(goal="g1", words="Sleep through the night", ratings=ratings)
    [finding] = goal_stagnation(goal, [_weekly(i) for i in range(4)], subject="c1")
    assert finding.on == _weekly(3)
    # Fewer sessions than ratings (sessions stopped): no finding.
    assert goal_stagnation(goal, [_weekly(0)], subject="c1") == []
    at_expected = GoalHistory(goal="g1", words="x", ratings=[Observation(_weekly(i), 0, "") for i in range(4)])
    assert goal_stagnation(at_expected, [_weekly(i) for i in range(4)], subject="c1") == []


def test_a_heavy_note_beside_reliably_better_scores():
    note = WrittenNote(_weekly(3), compound=-0.8, phrases=("everything is falling apart",), where="pre-session note")
    [finding] = words_versus_scores([note], _phq9([18, 15, 13, 11]), subject="c1")
    assert finding.phrases == ("everything is falling apart",)
    assert "reliably improved (18 → 11)" in finding.summary
    # A mildly negative note, or one before the scores moved, is no finding.
    assert words_versus_scores([WrittenNote(_weekly(3), -0.3, (), "note")], _phq9([18, 15, 13, 11]), subject="c1") == []
    assert words_versus_scores([WrittenNote(_weekly(1), -0.8, (), "note")], _phq9([18, 15, 13, 11]), subject="c1") == []


def test_a_hopeful_note_beside_reliably_worse_scores():
    note = WrittenNote(_weekly(2), compound=0.7, phrases=("a really good week",), where="check-in comment")
    [finding] = words_versus_scores([note], _phq9([6, 9, 13]), subject="c1")
    assert "reliably worsened" in finding.summary


@given(st.lists(st.floats(min_value=0, max_value=30), max_size=12), st.lists(st.floats(min_value=0, max_value=30), max_size=12))
def test_running_again_gives_the_same_keys_once_each(a, b):
    first = split_alliance(_alliance(a), _alliance(b), subject="case") + alliance_rupture(_alliance(a), subject="c")
    again = split_alliance(_alliance(a), _alliance(b), subject="case") + alliance_rupture(_alliance(a), subject="c")
    assert [f.key for f in first] == [f.key for f in again]
    assert len({f.key for f in first}) == len(first)


def test_missed_checkins_and_a_missed_session_on_one_day_are_two_findings():
    checkins = [CheckinDue(_weekly(0), False), CheckinDue(_weekly(1), False)]
    findings = disengagement([SessionOutcome(_weekly(1), "no_show")], checkins, subject="c1")
    assert len(findings) == 2
    assert len({f.key for f in findings}) == 2
