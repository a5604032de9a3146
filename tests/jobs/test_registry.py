from __future__ import annotations

import pytest

from jobs import registry
from jobs.registry import JobParamsError, UnknownJobType


def test_unknown_type_names_the_known_ones():
    with pytest.raises(UnknownJobType) as err:
        registry.get("nope")
    assert "nope" in str(err.value)
    assert "test-steps" in str(err.value)


def test_missing_params_take_the_defaults():
    assert registry.get("test-steps").validate({}) == {
        "steps": 10,
        "step_ms": 10,
        "fail_at": None,
        "marker": "",
        "source": "",
    }


def test_strings_from_cli_and_json_values_are_both_parsed():
    spec = registry.get("test-steps")
    assert spec.validate({"steps": "5"})["steps"] == 5
    assert spec.validate({"steps": 5})["steps"] == 5


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"steps": "many"}, "steps", "whole number"),
        ({"steps": -1}, "steps", "greater than or equal to 0"),
        ({"step_ms": 10**9}, "step_ms", "less than or equal to 60000"),
        ({"stpes": 3}, "stpes", "unknown parameter"),
    ],
)
def test_bad_params_name_the_field(params, field, fragment):
    with pytest.raises(JobParamsError) as err:
        registry.get("test-steps").validate(params)
    assert field in err.value.errors
    assert fragment in " ".join(err.value.errors[field])
    assert field in str(err.value)
    assert "\n" not in str(err.value)


def test_registering_a_different_function_under_a_taken_name_fails():
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.JobType(name="test-steps", func=print, label="x"))
