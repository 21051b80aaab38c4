"""QA round 4: an extension typed as a part of its own after the phone ("+1 212 555 0101,
ext. 12") became the company or the position and the phone lost it (core.quickadd)."""

from __future__ import annotations

import pytest

from core.quickadd import parse_quick_add


@pytest.mark.parametrize(
    ("text", "region", "phone", "company", "position"),
    [
        ("Peter, Acme, +1 212 555 0101, ext. 12", "RU", "+12125550101;ext=12", "Acme", None),
        ("Petr, +7 495 123 45 67, доб. 55", "RU", "+74951234567;ext=55", None, None),
        ("Petr, +7 495 123 45 67, доп. 5, CTO", "RU", "+74951234567;ext=5", None, "CTO"),
        ("Ann, Acme, CTO, +1 212 555 0101; x12", "US", "+12125550101;ext=12", "Acme", "CTO"),
        ("Ann, +7 495 123 45 67, вн. 12", "RU", "+74951234567;ext=12", None, None),
        ("Ann, +1 212 555 0101, EXT 12", "US", "+12125550101;ext=12", None, None),
    ],
)
def test_an_extension_part_after_the_phone_is_the_phones(
    text: str, region: str, phone: str, company: str | None, position: str | None
) -> None:
    parsed = parse_quick_add(text, region)
    assert (parsed.phone, parsed.company, parsed.position) == (phone, company, position)
    assert parsed.notes is None and parsed.problems == ()


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("Ann, +7 495 123 45 67, X5, CTO", "X5"),  # a company, not "x 5"
        ("Ann, +7 495 123 45 67, x12 street", "x12 street"),  # more than an extension
        ("Ann, Extra Co, +7 495 123 45 67", "Extra Co"),
    ],
)
def test_other_parts_stay_what_they_were(text: str, company: str) -> None:
    parsed = parse_quick_add(text, "RU")
    assert (parsed.phone, parsed.company) == ("+74951234567", company)
