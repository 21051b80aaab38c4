"""Stored codes for contact fields. Values are short English codes (they go into callback data)."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    B2B = "b2b"
    B2C = "b2c"


class IcpFit(StrEnum):
    FITS = "fits"
    NOT_FIT = "not_fit"
    UNKNOWN = "unknown"


class Influence(StrEnum):
    """Role of a B2B contact in the buying decision."""

    INITIATOR = "initiator"
    DECISION_MAKER = "decision_maker"
    PROCUREMENT = "procurement"
    USER = "user"
    INFLUENCER = "influencer"
    OTHER = "other"


class InfluenceSource(StrEnum):
    """What influences a B2C contact's decision."""

    RECOMMENDATION = "recommendation"
    COMMUNITY = "community"
    REVIEWS = "reviews"
    OTHER = "other"


class Source(StrEnum):
    EVENT = "event"
    COMMUNITY = "community"
    PARTNER = "partner"
    DIGITAL = "digital"
    WEBINAR = "webinar"
    INBOUND = "inbound"
    REFERRAL = "referral"
    COLD = "cold"
    OTHER = "other"


class Status(StrEnum):
    CONTACT = "contact"
    LEAD = "lead"
    CLIENT = "client"
    PARTNER = "partner"
    LOST = "lost"


class Stage(StrEnum):
    IDENTIFICATION = "identification"
    CONNECTION = "connection"
    DEVELOPMENT = "development"
    COMMERCIAL = "commercial"
    RETENTION = "retention"


class TouchType(StrEnum):
    CALL = "call"
    MEETING = "meeting"
    MESSAGE = "message"
    EMAIL = "email"
    EVENT = "event"
    WEBINAR = "webinar"
    SOCIAL = "social"
    SERVICE = "service"
    OTHER = "other"


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


STAGE_ORDER: tuple[Stage, ...] = (
    Stage.IDENTIFICATION,
    Stage.CONNECTION,
    Stage.DEVELOPMENT,
    Stage.COMMERCIAL,
    Stage.RETENTION,
)

DEFAULT_CADENCE_DAYS: dict[Stage, int | None] = {
    Stage.IDENTIFICATION: None,
    Stage.CONNECTION: 7,
    Stage.DEVELOPMENT: 14,
    Stage.COMMERCIAL: 3,
    Stage.RETENTION: 30,
}

# The contact fields whose values are one of these codes. A B2B contact's influence is its role
# in the decision (Influence), a B2C contact's what influences it (InfluenceSource).
ENUM_FIELDS: dict[str, tuple[type[StrEnum], ...]] = {
    "kind": (Kind,),
    "icp_fit": (IcpFit,),
    "influence": (Influence, InfluenceSource),
    "source": (Source,),
    "status": (Status,),
    "stage": (Stage,),
}


def field_choices(field: str, kind: str | None = None) -> tuple[str, ...]:
    """The codes a field takes (``kind``: a B2C contact's influence is InfluenceSource, a B2B or
    unknown contact's Influence); () for a field that is not an enum."""
    enums = ENUM_FIELDS.get(field, ())
    if field == "influence":
        enums = (InfluenceSource,) if kind == Kind.B2C.value else (Influence,)
    return tuple(member.value for enum in enums for member in enum)
