from rest_framework.test import APIClient

from apps.accounts.models import ApiKey


def create_key(api, name="ci"):
    response = api.post("/api/v1/auth/keys", {"name": name}, format="json")
    assert response.status_code == 201
    return response.json()


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(api):
    created = create_key(api)
    raw = created["key"]
    stored = ApiKey.objects.get(pk=created["id"])
    assert raw not in (stored.hashed_key, stored.prefix, stored.name)
    listed = api.get("/api/v1/auth/keys")
    assert raw not in listed.content.decode()
    assert listed.json()[0]["prefix"] == stored.prefix


def test_an_api_key_authenticates_and_records_its_use(api):
    raw = create_key(api)["key"]
    me = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "owner"
    assert ApiKey.objects.get().last_used_at is not None


def test_a_revoked_key_is_refused(api):
    created = create_key(api)
    assert api.delete(f"/api/v1/auth/keys/{created['id']}").status_code == 204
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {created['key']}").get("/api/v1/auth/me")
    assert response.status_code == 401


def test_a_tampered_key_with_a_real_prefix_is_refused(api):
    raw = create_key(api)["key"]
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {forged}").get("/api/v1/auth/me").status_code == 401


def test_keys_are_only_accepted_as_bearer(api):
    raw = create_key(api)["key"]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {raw}").get("/api/v1/auth/me").status_code == 401
    assert APIClient().get(f"/api/v1/auth/me?api_key={raw}").status_code == 401


def test_another_user_cannot_list_or_revoke_my_keys(api, other_api):
    created = create_key(api)
    assert other_api.get("/api/v1/auth/keys").json() == []
    assert other_api.delete(f"/api/v1/auth/keys/{created['id']}").status_code == 404
    assert ApiKey.objects.get().revoked_at is None


def test_the_static_api_key_from_the_environment_acts_as_the_admin(admin_user, settings):
    settings.STATIC_API_KEY = "static-key-for-automation"
    me = APIClient(HTTP_AUTHORIZATION="Bearer static-key-for-automation").get("/api/v1/auth/me")
    assert me.json()["username"] == "admin"


def test_the_keys_page_shows_a_new_key_once_and_revokes(owner, client):
    client.force_login(owner)
    page = client.post("/keys/", {"name": "laptop"})
    key = ApiKey.objects.get()
    assert b"It will not be shown again" in page.content
    assert f"pl_{key.prefix}_".encode() in page.content
    again = client.get("/keys/")
    assert b"It will not be shown again" not in again.content
    client.post(f"/keys/{key.pk}/revoke")
    key.refresh_from_db()
    assert key.revoked_at is not None
