from apps.endpoints.models import Endpoint


def test_testing_an_endpoint_at_a_metadata_address_is_blocked_and_explained(api, owner):
    endpoint = Endpoint.objects.create(owner=owner, label="meta", base_url="http://169.254.169.254/v1")
    result = api.post(f"/api/v1/endpoints/{endpoint.pk}/test").json()
    assert result["ok"] is False and result["error"] == "blocked"
    assert "metadata" in result["detail"]


def test_testing_a_loopback_endpoint_is_allowed(api, owner, fake_llm):
    endpoint = Endpoint.objects.create(owner=owner, label="local", base_url=fake_llm.base_url)
    result = api.post(f"/api/v1/endpoints/{endpoint.pk}/test").json()
    assert result["ok"] is True and "fake-chat" in result["models"]
