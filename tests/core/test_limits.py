"""Input limits: one table, cleaned and fitted the same way on every path."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core import limits


def test_control_characters_and_nul_are_dropped() -> None:
    assert limits.clean("name", "An\x00na\x07 Smir\x1bnova\ufeff") == "Anna Smirnova"
    assert limits.clean("name", "Anna\nSmirnova\tCTO") == "Anna Smirnova CTO"
    assert limits.clean("notes", "line one\r\nline two\x00") == "line one\nline two"


def test_too_long_values_are_cut_and_say_so() -> None:
    fitted = limits.fit("summary", "x" * 4_999)
    assert fitted.cut and fitted.value == "x" * 4_000
    assert not limits.fit("summary", "short").cut
    assert limits.too_long("name", "n" * 257) and not limits.too_long("name", "n" * 256)
    assert limits.fit("name", "   ").value is None


def test_tags_are_capped_in_count() -> None:
    tags, dropped = limits.fit_tags([f"t{i}" for i in range(30)] + ["t1"])
    assert dropped and len(tags) == limits.TAG_MAX_COUNT and tags[0] == "t0"
    assert limits.fit_tags(["a", "b", "a"]) == (["a", "b"], False)


@given(st.sampled_from(sorted(limits.LIMITS)), st.text())
def test_a_fitted_value_is_always_clean_and_within_its_limit(field: str, text: str) -> None:
    value = limits.fit(field, text).value
    if value is not None:
        assert len(value) <= limits.LIMITS[field]
        assert "\x00" not in value
        assert value == value.strip()
        if field not in limits.MULTILINE:
            assert "\n" not in value and "\r" not in value
