"""The success rule of a gateway request, shared by the gateway, the feedback service, A/B tests and analytics."""

import pytest

from apps.core.errors import InvalidInput
from apps.deployments.success import DEFAULT_CRITERIA, EMPTY_REPLY, criteria_clean, recorded_success, request_success


@pytest.mark.parametrize(("criteria", "status_code", "text", "helpful", "success"), [
    (None, 200, "Hello", None, True),
    (None, 200, "  \n", None, False),
    (None, 200, None, True, False),
    (None, 500, "upstream said no", None, False),
    (None, 429, "", None, False),
    ({"require_no_error": False}, 500, "an error body", None, True),
    ({"require_non_empty": False}, 200, "", None, True),
    ({"require_helpful": True}, 200, "Hello", True, True),
    ({"require_helpful": True}, 200, "Hello", False, False),
    ({"require_helpful": True}, 200, "Hello", None, False),  # no feedback yet: not a success
    ({"require_user_helpful": True}, 200, "Hello", None, False),
    (None, 200, "Hello", False, True),  # feedback only counts when the test asks for it
])
def test_a_request_succeeds_by_the_tests_criteria(criteria, status_code, text, helpful, success):
    assert request_success(criteria=criteria, status_code=status_code, text=text, helpful=helpful) is success


@pytest.mark.parametrize(("criteria", "status_code", "error", "success"), [
    (None, 200, "", True),
    (None, 200, EMPTY_REPLY, False),
    ({"require_non_empty": False}, 200, EMPTY_REPLY, True),
    (None, 502, "upstream stream ended early", False),
    # A reply cut off midway is not a non-empty reply, however much of it arrived.
    ({"require_no_error": False}, 502, "upstream stream ended early", False),
    ({"require_no_error": False, "require_non_empty": False}, 502, "upstream: HTTP 500", True),
])
def test_a_stored_request_succeeds_by_its_status_and_error(criteria, status_code, error, success):
    assert recorded_success(criteria=criteria, status_code=status_code, error=error, helpful=None) is success


def test_criteria_are_filled_in_with_defaults_and_unknown_ones_refused():
    assert criteria_clean(None) == DEFAULT_CRITERIA
    assert criteria_clean({"require_no_tool_errors": False})["require_no_error"] is False
    with pytest.raises(InvalidInput) as caught:
        criteria_clean(["require_helpful"])
    assert "success_criteria" in caught.value.errors
