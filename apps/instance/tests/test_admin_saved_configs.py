"""A saved configuration's name and notes change in the admin through the same service rules as the API."""

from __future__ import annotations

from apps.exports.models import SavedConfig
from apps.instance.tests.conftest import admin_url


def saved_form(**changes) -> dict:
    return {"name": "best", "notes": "", "_save": "Save", **changes}


def test_the_admin_renames_a_saved_config_trimming_the_name(staff, world):
    response = staff.post(admin_url(SavedConfig, "change", world.saved.pk),
                          saved_form(name="  calm and short  ", notes="kept for the launch"))

    assert response.status_code == 302
    world.saved.refresh_from_db()
    assert (world.saved.name, world.saved.notes) == ("calm and short", "kept for the launch")
    assert world.saved.config == {"a": 1}


def test_notes_longer_than_the_api_allows_are_refused_on_the_notes_field(staff, world):
    response = staff.post(admin_url(SavedConfig, "change", world.saved.pk), saved_form(notes="x" * 100_001))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["notes"] == [
        "Ensure this field has no more than 100000 characters."]
    world.saved.refresh_from_db()
    assert world.saved.notes == ""


def test_a_blank_name_is_refused_with_the_apis_message(staff, api, world):
    refused = api.post(f"/api/v1/projects/{world.project.pk}/configs", {"name": "   ", "config": {}},
                       format="json")
    response = staff.post(admin_url(SavedConfig, "change", world.saved.pk), saved_form(name="   "))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == refused.json()["name"]
    world.saved.refresh_from_db()
    assert world.saved.name == "best"
