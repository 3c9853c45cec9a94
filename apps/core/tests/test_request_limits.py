import json


def post_raw(api, body: bytes):
    return api.generic("POST", "/api/v1/projects", body, content_type="application/json")


def test_an_oversized_body_is_refused_with_413(api, settings, db):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x", "description": "y" * 20_000}).encode()
    response = post_raw(api, body)
    assert response.status_code == 413


def test_a_deeply_nested_body_is_refused_with_400(api, db):
    body = ("[" * 5000 + "]" * 5000).encode()
    response = post_raw(api, b'{"name": "x", "description": ' + body + b"}")
    assert response.status_code == 400


def test_moderate_nesting_past_the_limit_names_the_path(api, db):
    nested = {"name": "x", "description": "d"}
    node = nested
    for _ in range(40):
        node["n"] = {}
        node = node["n"]
    response = post_raw(api, json.dumps(nested).encode())
    assert response.status_code == 400
    assert "nested deeper" in response.content.decode()


def test_a_nul_byte_is_refused_naming_the_field(api, db):
    response = post_raw(api, json.dumps({"name": "bad\u0000name"}).encode())
    assert response.status_code == 400
    assert "name" in response.json()


def test_a_lone_surrogate_is_refused(api, db):
    response = post_raw(api, b'{"name": "bad \\ud800 name"}')
    assert response.status_code == 400


def test_malformed_json_is_a_400_not_a_500(api, db):
    assert post_raw(api, b'{"name": ').status_code == 400
