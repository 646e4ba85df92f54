"""Model-written arguments: invalid JSON, not an object, missing or mistyped fields all become
a sentence for the model; valid ones come back parsed."""

from __future__ import annotations

import pytest

from tui.tools.arguments import ArgumentChecker, BadSchema

SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "count": {"type": "integer", "minimum": 1},
    },
    "required": ["text"],
    "additionalProperties": False,
}


def check(raw: str):
    return ArgumentChecker(SCHEMA).check("notes__add", raw)


def test_valid_arguments_are_parsed() -> None:
    checked = check('{"text": "milk", "count": 2}')
    assert checked.arguments == {"text": "milk", "count": 2}
    assert checked.problem == ""


def test_invalid_json_says_where() -> None:
    checked = check('{"text": "milk"')
    assert checked.arguments is None
    assert checked.problem == (
        "The arguments for notes__add are not valid JSON at character 15. Call it again with "
        "a JSON object of its parameters."
    )


@pytest.mark.parametrize(
    ("raw", "kind"), [("[1, 2]", "an array"), ('"text"', "a string"), ("3", "a number")]
)
def test_arguments_that_are_not_an_object_are_refused(raw: str, kind: str) -> None:
    assert check(raw).problem == (
        f"The arguments for notes__add must be a JSON object of its parameters, not {kind}."
    )


def test_each_schema_problem_is_listed() -> None:
    checked = check('{"count": "two", "colour": "red"}')
    assert checked.arguments is None
    assert checked.problem.startswith("The arguments for notes__add do not match its parameters:")
    assert "'text' is a required property" in checked.problem
    assert "at 'count': 'two' is not of type 'integer'" in checked.problem
    assert "'colour' was unexpected" in checked.problem
    assert checked.problem.endswith("Call it again with arguments that match its schema.")


def test_empty_arguments_mean_no_arguments() -> None:
    assert ArgumentChecker({"type": "object"}).check("t", "").arguments == {}
    assert "'text' is a required property" in check("").problem


def test_deeply_nested_json_is_a_problem_not_a_crash() -> None:
    checked = ArgumentChecker({"type": "object"}).check(
        "t", '{"a": ' * 100_000 + "1" + "}" * 100_000
    )
    assert checked.arguments is None
    assert "not valid JSON" in checked.problem


def test_a_long_value_is_not_pasted_whole_into_the_problem() -> None:
    checked = check('{"text": "milk", "count": "' + "x" * 5000 + '"}')
    assert len(checked.problem) < 500


def test_a_schema_that_is_not_json_schema_is_refused() -> None:
    with pytest.raises(BadSchema, match="not valid JSON Schema"):
        ArgumentChecker({"type": "objekt"})
