"""A URL under /api/ that matches no route answers the API's JSON error, not Django's HTML page."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/experiments/0", "/api/v1/auth/keys/not-a-uuid", "/api/v1/no-such-thing"])
def test_an_api_url_that_matches_no_route_answers_a_json_not_found(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_page_that_does_not_exist_outside_the_api_still_answers_html(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
