import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.engine.templating import (
    MAX_LOOP_ITERATIONS,
    TemplateError,
    attribute_references,
    item_variables,
    render,
    stage_context,
    template_variables,
)

ITEM = {"id": "7", "input": {"question": "Why?", "lang": "en"}, "reference": "Because.", "vars": {"tone": "dry"}}


def render_error(source: str, context: dict | None = None, **limits) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        render(source, context or {}, stage="extract", **limits)
    return caught.value


def test_render_substitutes_item_variables_and_the_whole_item():
    context = stage_context(ITEM)
    text = render("{{ question }} ({{ lang }}, {{ tone }}) {{ item.id }} {{ input.question }} {{ reference }}",
                  context, stage="extract")
    assert text == "Why? (en, dry) 7 Why? Because."


def test_a_string_input_is_the_input_variable():
    assert render("Q: {{ input }}", stage_context({"id": "1", "input": "hi"}), stage="s") == "Q: hi"


def test_unknown_variable_error_names_the_stage_and_the_variable():
    error = render_error("Hello {{ foo }}", stage_context(ITEM))
    assert str(error) == "stage 'extract': unknown variable 'foo'"
    assert error.stage == "extract"
    assert error.variable == "foo"


def test_unknown_attribute_error_names_the_attribute():
    error = render_error("{{ stages.missing.output }}", stage_context(ITEM, earlier=[("first", "x")]))
    assert error.variable == "missing"
    assert "stage 'extract'" in str(error)


def test_the_sandbox_blocks_underscore_attributes():
    for source in ("{{ ''.__class__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ item._private }}",
                   "{{ item['__class__'] }}"):
        error = render_error(source, stage_context(ITEM))
        assert error.stage == "extract"
        assert "unsafe" in str(error) or "unknown" in str(error)


def test_the_sandbox_refuses_to_mutate_lists():
    assert "unsafe" in str(render_error("{{ [1, 2].append(3) }}"))


def test_later_stages_read_previous_and_earlier_stage_outputs():
    context = stage_context(ITEM, earlier=[("extract", "facts"), ("summarize", "short")])
    text = render("{{ previous }} | {{ stages.extract.output }} | {{ stages['summarize'].output }}", context,
                  stage="s3")
    assert text == "short | facts | short"


def test_the_first_stage_has_neither_previous_nor_stages():
    context = stage_context({"id": "1", "input": "x", "vars": {"previous": "sneaky", "stages": {}}})
    assert "previous" not in context and "stages" not in context
    assert render_error("{{ previous }}", context).variable == "previous"


def test_stages_only_hold_the_stages_given_as_earlier():
    context = stage_context(ITEM, earlier=[("extract", "facts")])
    assert context["stages"] == {"extract": {"output": "facts"}}


def test_item_fields_win_over_vars_and_vars_over_input_keys():
    item = {"id": "1", "input": {"id": "inner", "topic": "a", "tone": "loud"}, "vars": {"tone": "dry"}}
    variables = item_variables(item)
    assert variables["id"] == "1"
    assert variables["tone"] == "dry"
    assert variables["topic"] == "a"
    assert "reference" not in variables


def test_output_is_not_html_escaped_and_keeps_trailing_newlines():
    assert render("{{ x }}\n", {"x": "<b>&</b>"}, stage="s") == "<b>&</b>\n"


def test_template_variables_lists_root_names_without_jinja_globals():
    source = "{{ a }}{% for x in range(3) %}{{ x }}{{ b.c }}{% endfor %}{% set d = 1 %}{{ d }}{{ stages.e.output }}"
    assert template_variables(source) == {"a", "b", "stages"}


def test_a_syntax_error_is_a_template_error_without_a_variable():
    with pytest.raises(TemplateError) as caught:
        template_variables("{{ unclosed", stage="extract")
    assert caught.value.stage == "extract"
    assert caught.value.variable is None
    assert "syntax error" in str(caught.value)


def test_attribute_references_finds_static_names_only():
    source = "{{ stages.one.output }}{{ stages['two'].output }}{{ stages[name] }}{{ other.stages }}"
    assert attribute_references(source, "stages") == {"one", "two"}


def test_a_template_longer_than_the_cap_is_refused():
    assert "longer than 10" in str(render_error("{{ x }}" * 5, {"x": 1}, max_template_chars=10))
    with pytest.raises(TemplateError):
        template_variables("x" * 11, max_template_chars=10)


def test_output_longer_than_the_cap_is_cut_off():
    error = render_error("{% for i in range(100) %}{{ text }}{% endfor %}", {"text": "x" * 100}, max_output_chars=5000)
    assert "output is longer than 5000" in str(error)


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 100000000 }}",
        "{{ 9 ** 999999 }}",
        "{% set a = 'x' * 600000 %}{% set b = a ~ a %}",
        "{% set a = 'x' * 600000 %}{{ (a + a)|length }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{{ 'ab'.replace('', 'x' * 900000) }}",
        "{{ 'ab'|replace('', 'x' * 900000) }}",
        "{{ 'a'.ljust(100000000) }}",
        "{{ 'a'|center(100000000) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ range(100000)|join('x' * 100) }}",
    ],
)
def test_values_that_would_outgrow_the_cap_are_refused_before_they_are_built(source):
    error = render_error(source)
    assert error.stage == "extract"


def test_nested_loops_stop_at_the_iteration_budget():
    error = render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    assert f"more than {MAX_LOOP_ITERATIONS} iterations" in str(error)


@pytest.mark.parametrize(
    "source",
    [
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}",
        "{% set x %}buffered{% endset %}",
        "{% filter upper %}x{% endfilter %}",
        "{% include 'other' %}",
        "{% block b %}{{ self.b() }}{% endblock %}",
    ],
)
def test_recursion_and_unmetered_buffers_are_rejected(source):
    assert "not allowed" in str(render_error(source))


def test_ordinary_filters_loops_and_formatting_still_work():
    source = (
        "{% for w in words %}{{ loop.index }}.{{ w|upper }}{{ ', ' if not loop.last }}{% endfor %} "
        "{{ words|join('/') }} {{ '%03d'|format(7) }} {{ '{:>3}'.format(1) }} {{ data|tojson }}"
    )
    text = render(source, {"words": ["a", "b"], "data": {"k": 1}}, stage="s")
    assert text == '1.A, 2.B a/b 007   1 {"k": 1}'


def test_compiled_templates_are_reused_between_renders():
    source = "{{ input }}!"
    outputs = [render(source, {"input": str(n)}, stage="s") for n in range(3)]
    assert outputs == ["0!", "1!", "2!"]


TOKENS = [
    "{{", "}}", "{%", "%}", "for x in", "endfor", "if", "endif", "set a =", "a", "x", "input", "item", "question",
    "previous", "stages", "loop", "range(", ")", "(", ",", ".", "[", "]", "|", "upper", "join", "replace", "format",
    "center", "*", "**", "~", "+", "%", "'x'", "'%s'", "9", "99999", "-1", "__class__", "namespace(", "ljust",
]


@settings(max_examples=300, deadline=None)
@given(source=st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
def test_any_source_renders_or_raises_a_template_error(source):
    try:
        render(source, stage_context(ITEM), stage="fuzz", max_output_chars=10_000)
    except TemplateError as exc:
        assert exc.stage == "fuzz"
