"""Going cold on one card: core.cadence.cooling agrees with is_going_cold and counts the days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.cadence import Cooling, cooling, effective_cadence, is_going_cold, stage_for_client
from core.enums import STAGE_ORDER, Stage

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CADENCE = effective_cadence(None, None)


def test_quiet_longer_than_the_stage_asks_is_going_cold_with_its_numbers() -> None:
    created = NOW - timedelta(days=40)
    touched = NOW - timedelta(days=8, hours=3)
    assert cooling(
        stage=Stage.CONNECTION.value,
        last_touch_at=touched,
        created_at=created,
        next_step_due=None,
        now=NOW,
        cadence=CADENCE,
    ) == Cooling(quiet_days=8, every_days=7)
    # a planned step, or a stage with no cadence, is never going cold
    for stage, due in ((Stage.CONNECTION.value, NOW), (Stage.IDENTIFICATION.value, None)):
        assert (
            cooling(
                stage=stage,
                last_touch_at=touched,
                created_at=created,
                next_step_due=due,
                now=NOW,
                cadence=CADENCE,
            )
            is None
        )


@given(
    stage=st.sampled_from([s.value for s in Stage]),
    quiet=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
    touched=st.booleans(),
    planned=st.booleans(),
)
def test_cooling_is_going_cold_and_never_counts_fewer_days_than_the_stage_allows(
    stage: str, quiet: timedelta, touched: bool, planned: bool
) -> None:
    since = NOW - quiet
    kwargs = {
        "stage": stage,
        "last_touch_at": since if touched else None,
        "created_at": since if not touched else since - timedelta(days=3),
        "next_step_due": NOW if planned else None,
        "now": NOW,
        "cadence": CADENCE,
    }
    found = cooling(**kwargs)
    assert (found is not None) == is_going_cold(**kwargs)
    if found is not None:
        assert found.every_days == CADENCE[stage]
        assert found.quiet_days == quiet.days >= found.every_days


def test_a_client_served_is_at_retention_whatever_stage_the_card_was_left_at() -> None:
    for stage in STAGE_ORDER[:-1]:
        assert stage_for_client(stage.value) == Stage.RETENTION.value
    assert stage_for_client(Stage.RETENTION.value) is None  # nothing to change
