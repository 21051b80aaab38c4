"""The schema check of every test's requests needs the official Bot API schema."""

from __future__ import annotations

import pytest

from tests import schema
from tests.services import IN_CI


def test_the_bot_api_schema_is_there_and_catches_a_bad_request() -> None:
    spec = schema.load_schema()
    if spec is None:
        if IN_CI:
            pytest.fail(schema.MISSING + "; with CI=true it must be present", pytrace=False)
        pytest.skip(schema.MISSING)
    schema.validate_request("sendMessage", {"chat_id": 1, "text": "hi"}, spec)
    with pytest.raises(schema.SchemaError, match="unknown field"):
        schema.validate_request("sendMessage", {"chat_id": 1, "text": "hi", "colour": "red"}, spec)
