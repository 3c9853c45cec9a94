import uuid

from apps.core.ids import canonical_uuid, is_uuid


def test_any_spelling_of_a_uuid_reads_as_its_canonical_text():
    value = uuid.uuid4()
    assert canonical_uuid(str(value).upper()) == canonical_uuid(value.hex) == str(value)
    assert is_uuid(value)


def test_anything_else_a_hand_edited_config_may_hold_is_not_an_id():
    assert [v for v in ["", "gpu-one", 42, None, {"id": "x"}, "'; DROP TABLE"] if is_uuid(v)] == []
