"""system_settings_update: the one write path for system settings (REST view and admin form)."""

import pytest

from apps.core.errors import InvalidInput
from apps.core.models import SystemSettings
from apps.instance.services import system_settings_update


@pytest.mark.django_db
def test_a_bad_allowlist_line_is_refused_by_field_and_nothing_changes():
    with pytest.raises(InvalidInput) as caught:
        system_settings_update(fields={"egress_allowlist": "10.0.0.1\nhttp://gpu-box:8000", "default_model": "x"})
    assert list(caught.value.errors) == ["egress_allowlist"]
    assert caught.value.errors["egress_allowlist"][0].startswith('Line 2 ("http://gpu-box:8000")')
    system = SystemSettings.load()
    assert (system.egress_allowlist, system.default_model) == ("", "")


@pytest.mark.django_db
def test_the_allowlist_is_stored_with_each_line_stripped():
    system = system_settings_update(fields={"egress_allowlist": "  10.0.5.7:8000 \r\n# lab\r\n\n"})
    assert system.egress_allowlist == "10.0.5.7:8000\n# lab"


@pytest.mark.django_db
def test_only_the_given_fields_change():
    system_settings_update(fields={"default_model": "llama3", "max_concurrent_runs": 8})
    system = system_settings_update(fields={"default_model": "qwen"})
    assert (system.default_model, system.max_concurrent_runs) == ("qwen", 8)
