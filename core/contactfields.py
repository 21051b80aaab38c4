"""The card's fields, defined once: which are picked from a list (and from which values), which
are typed, and how a typed value is checked. Plain data and functions, no I/O."""

from __future__ import annotations

from collections.abc import Callable

from core.contactdata import normalize_email, normalize_phone, normalize_username
from core.enums import IcpFit, Influence, InfluenceSource, Kind, Source, Stage, Status

# fields picked from a list: field -> the values offered (a B2C card's influence is its
# source of influence, see enum_choices)
ENUM_FIELDS: dict[str, tuple[str, ...]] = {
    "kind": tuple(k.value for k in Kind),
    "source": tuple(s.value for s in Source),
    "status": tuple(s.value for s in Status),
    "stage": tuple(s.value for s in Stage),
    "influence": tuple(i.value for i in Influence),
    "icp_fit": tuple(f.value for f in IcpFit),
}
B2C_INFLUENCE = tuple(i.value for i in InfluenceSource)
# the label group (views.labels) of a field whose labels are not named after it
LABEL_GROUP = {"influence": "influence", "icp_fit": "icp_fit"}
# fields typed as text on Edit
TEXT_FIELDS = (
    "name",
    "company",
    "position",
    "phone",
    "email",
    "tg_username",
    "segment",
    "icp_criterion",
    "source_detail",
    "notes",
    "tags",
)
# the fields /contacts filters by
LIST_FILTERS = ("status", "stage", "source")


def enum_choices(field: str, kind: str | None = None) -> tuple[str, ...]:
    """The values offered for a field: a B2C contact's influence is its source of influence."""
    if field == "influence" and kind == Kind.B2C.value:
        return B2C_INFLUENCE
    return ENUM_FIELDS[field]


def is_valid_choice(field: str, value: str) -> bool:
    return value in ENUM_FIELDS.get(field, ()) or (field == "influence" and value in B2C_INFLUENCE)


# typed fields normalised before saving: field -> normaliser(raw, phone region) (None: invalid)
TYPED_CHECKS: dict[str, Callable[[str, str], str | None]] = {
    "phone": normalize_phone,
    "email": lambda raw, _region: normalize_email(raw),
    "tg_username": lambda raw, _region: normalize_username(raw),
}
