"""The card's fields, defined once: which are picked from a list (and from which values), which
are typed, and how a typed value is checked. Plain data and functions, no I/O."""

from __future__ import annotations

from collections.abc import Callable

from core.contactdata import normalize_email, normalize_phone, normalize_username
from core.enums import ENUM_FIELDS as ENUM_TYPES
from core.enums import Kind, field_choices

# the card's own fields in the order export and editing list them, in two runs: who the person
# is and where they came from, then (after who introduced them) the card's state and reach
PROFILE_FIELDS = (
    "name",
    "company",
    "position",
    "kind",
    "segment",
    "icp_fit",
    "icp_criterion",
    "influence",
    "source",
    "source_detail",
)
STATE_AND_REACH_FIELDS = ("status", "stage", "phone", "email", "tg_username", "tg_user_id")
# fields picked from a list: field -> the codes offered (derived from core.enums.ENUM_FIELDS,
# the one definition; a B2C card's influence is its source of influence, see enum_choices)
ENUM_FIELDS: dict[str, tuple[str, ...]] = {field: field_choices(field) for field in ENUM_TYPES}
B2C_INFLUENCE = field_choices("influence", Kind.B2C.value)
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
    return field_choices(field, kind)


def is_valid_choice(field: str, value: str) -> bool:
    return value in ENUM_FIELDS.get(field, ()) or (field == "influence" and value in B2C_INFLUENCE)


# typed fields normalised before saving: field -> normaliser(raw, phone region) (None: invalid)
TYPED_CHECKS: dict[str, Callable[[str, str], str | None]] = {
    "phone": normalize_phone,
    "email": lambda raw, _region: normalize_email(raw),
    "tg_username": lambda raw, _region: normalize_username(raw),
}
