import copy

import pytest

from apps.engine.config_paths import ConfigPathError, apply_point, get_path, point_label, set_path, split_path


def two_stage_config() -> dict:
    return {
        "stages": [
            {"name": "extract", "endpoint": "e1", "model": "small", "system_prompt": "",
             "prompt_template": "{{ input }}", "params": {"temperature": 0.7}},
            {"name": "summarize", "endpoint": "e1", "model": "big", "system_prompt": "Be brief.",
             "prompt_template": "{{ previous }}", "params": {}},
        ]
    }


def test_get_path_reads_stage_fields_and_params():
    config = two_stage_config()
    assert get_path(config, "stages.1.model") == "big"
    assert get_path(config, "stages.0.params.temperature") == 0.7


def test_get_path_names_the_path_when_it_leads_nowhere():
    with pytest.raises(ConfigPathError, match="stages.5.model"):
        get_path(two_stage_config(), "stages.5.model")
    with pytest.raises(ConfigPathError):
        get_path(two_stage_config(), "stages.1.params.top_p")


def test_set_path_does_not_mutate_its_input():
    config = two_stage_config()
    before = copy.deepcopy(config)
    changed = set_path(config, "stages.0.params.temperature", 0.2)
    assert config == before
    assert changed["stages"][0]["params"]["temperature"] == 0.2
    changed["stages"][1]["params"]["x"] = 1
    assert config == before


def test_set_path_creates_a_missing_param_and_a_missing_params_dict():
    config = two_stage_config()
    assert set_path(config, "stages.1.params.top_p", 0.9)["stages"][1]["params"] == {"top_p": 0.9}
    del config["stages"][1]["params"]
    assert set_path(config, "stages.1.params.seed", 7)["stages"][1]["params"] == {"seed": 7}


def test_set_path_refuses_a_stage_that_does_not_exist():
    with pytest.raises(ConfigPathError):
        set_path(two_stage_config(), "stages.2.model", "x")


def test_a_param_name_with_dots_is_one_key():
    assert split_path("stages.0.params.chat.template") == ["stages", 0, "params", "chat.template"]
    changed = set_path(two_stage_config(), "stages.0.params.chat.template", "on")
    assert changed["stages"][0]["params"]["chat.template"] == "on"
    assert get_path(changed, "stages.0.params.chat.template") == "on"


def test_apply_point_sets_every_path_on_a_two_stage_config():
    config = two_stage_config()
    point = {"stages.0.model": "tiny", "stages.1.params.temperature": 0.3,
             "stages.1.prompt_template": "Sum: {{ previous }}"}
    applied = apply_point(config, point)
    assert applied["stages"][0]["model"] == "tiny"
    assert applied["stages"][1]["params"] == {"temperature": 0.3}
    assert applied["stages"][1]["prompt_template"] == "Sum: {{ previous }}"
    assert applied["stages"][0]["params"] == {"temperature": 0.7}
    assert config == two_stage_config()


def test_apply_point_copies_values_so_plans_do_not_share_them():
    response_format = {"type": "json_object"}
    applied = apply_point(two_stage_config(), {"stages.0.params.response_format": response_format})
    applied["stages"][0]["params"]["response_format"]["type"] = "text"
    assert response_format == {"type": "json_object"}


def test_an_empty_point_leaves_the_config_as_is():
    assert apply_point(two_stage_config(), {}) == two_stage_config()


def test_point_label_shortens_params_and_tidies_floats():
    label = point_label({"stages.0.model": "gpt-x", "stages.1.params.temperature": 0.30000000000000004})
    assert label == "stages.0.model=gpt-x, temperature=0.3"


def test_point_label_keeps_full_paths_when_two_stages_sweep_the_same_param():
    label = point_label({"stages.0.params.temperature": 1.0, "stages.1.params.temperature": 0.5})
    assert label == "stages.0.params.temperature=1, stages.1.params.temperature=0.5"


def test_point_label_truncates_long_prompts_onto_one_line():
    label = point_label({"stages.0.prompt_template": "Summarize the text below\n\n" + "word " * 50})
    assert label.startswith("stages.0.prompt_template=Summarize the text below word")
    assert label.endswith("…")
    assert "\n" not in label
    assert point_label({}) == "base config"
