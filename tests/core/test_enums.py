from enum import StrEnum

import pytest

from core.enums import (
    DEFAULT_CADENCE_DAYS,
    STAGE_ORDER,
    Direction,
    IcpFit,
    Influence,
    InfluenceSource,
    Kind,
    Source,
    Stage,
    Status,
    TouchType,
)

ALL_ENUMS = (Kind, IcpFit, Influence, InfluenceSource, Source, Status, Stage, TouchType, Direction)


def test_values_are_the_stored_codes() -> None:
    assert [k.value for k in Kind] == ["b2b", "b2c"]
    assert [v.value for v in IcpFit] == ["fits", "not_fit", "unknown"]
    assert [v.value for v in Influence] == [
        "initiator",
        "decision_maker",
        "procurement",
        "user",
        "influencer",
        "other",
    ]
    assert [v.value for v in InfluenceSource] == ["recommendation", "community", "reviews", "other"]
    assert [v.value for v in Source] == [
        "event",
        "community",
        "partner",
        "digital",
        "webinar",
        "inbound",
        "referral",
        "cold",
        "other",
    ]
    assert [v.value for v in Status] == ["contact", "lead", "client", "partner", "lost"]
    assert [v.value for v in Stage] == [
        "identification",
        "connection",
        "development",
        "commercial",
        "retention",
    ]
    assert [v.value for v in TouchType] == [
        "call",
        "meeting",
        "message",
        "email",
        "event",
        "webinar",
        "social",
        "service",
        "other",
    ]
    assert [v.value for v in Direction] == ["out", "in"]


@pytest.mark.parametrize("enum", ALL_ENUMS)
def test_values_are_short_ascii_codes(enum: type[StrEnum]) -> None:
    for member in enum:
        assert len(member.value) <= 16
        assert member.value.isascii()
        assert member.value == member.value.lower()
        assert ":" not in member.value and " " not in member.value


def test_str_enum_compares_with_stored_string() -> None:
    assert Stage("commercial") is Stage.COMMERCIAL
    assert Stage.COMMERCIAL == "commercial"
    assert f"{Direction.IN}" == "in"
    with pytest.raises(ValueError):
        Stage("unknown_stage")


def test_stage_order_covers_all_stages_in_funnel_order() -> None:
    assert STAGE_ORDER == tuple(Stage)
    assert STAGE_ORDER[0] is Stage.IDENTIFICATION
    assert STAGE_ORDER[-1] is Stage.RETENTION
    assert STAGE_ORDER.index(Stage.DEVELOPMENT) < STAGE_ORDER.index(Stage.COMMERCIAL)


def test_default_cadence() -> None:
    assert set(DEFAULT_CADENCE_DAYS) == set(Stage)
    assert DEFAULT_CADENCE_DAYS[Stage.IDENTIFICATION] is None
    assert DEFAULT_CADENCE_DAYS[Stage.CONNECTION] == 7
    assert DEFAULT_CADENCE_DAYS[Stage.DEVELOPMENT] == 14
    assert DEFAULT_CADENCE_DAYS[Stage.COMMERCIAL] == 3
    assert DEFAULT_CADENCE_DAYS[Stage.RETENTION] == 30
