from __future__ import annotations

from bot.emulator.html import parse_html
from core.textsplit import split_html, utf16_len


def test_short_text_is_one_part() -> None:
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]


def test_long_text_splits_under_limit_and_keeps_html_valid() -> None:
    body = "<b>Title</b>\n" + "\n".join(
        f"<i>line {i}</i> Tom &amp; Jerry &lt;tag&gt; 😀 " * 3 for i in range(400)
    )
    parts = split_html(body)
    assert len(parts) > 1
    for part in parts:
        assert utf16_len(part) <= 4096
        parse_html(part)  # raises on broken tags or entities
    joined = "".join(parse_html(p) for p in parts)
    assert joined.replace("\n", "").replace(" ", "") == parse_html(body).replace("\n", "").replace(
        " ", ""
    )


def test_a_tag_open_across_the_cut_is_closed_and_reopened() -> None:
    body = "<b>" + ("word " * 2000) + "</b>"
    parts = split_html(body)
    assert len(parts) == 3
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in parts)


def test_unbroken_run_without_spaces_is_cut_hard() -> None:
    parts = split_html("x" * 9000)
    assert [len(p) for p in parts][0] <= 4096 and "".join(parts) == "x" * 9000
