"""Job parameters: strict booleans, bounded numbers and texts, brief errors; on every
registered job type, with examples and with generated junk (Hypothesis)."""

from __future__ import annotations

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from jobs import params, registry
from jobs.registry import JobParamsError
from tests.jobs.junk import JUNK_SETTINGS, json_values, minimal_params, type_names

# The types the suite's settings register: the project's and the engine tests'.
ALL_TYPES = [spec.name for spec in registry.all_types()]


def boolean_fields() -> list[tuple[str, str]]:
    return [
        (spec.name, name)
        for spec in registry.all_types()
        for name, field in spec.params.base_fields.items()
        if isinstance(field, forms.BooleanField)
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        *((word, True) for word in ("true", "TRUE", "1", "yes", "Yes", "on", " on ")),
        *((word, False) for word in ("false", "False", "0", "no", "NO", "off")),
    ],
)
@pytest.mark.parametrize(("job_type", "field"), boolean_fields())
def test_booleans_accept_the_usual_spellings(job_type, field, value, expected):
    spec = registry.get(job_type)
    assert spec.validate({**minimal_params(spec), field: value})[field] is expected


@pytest.mark.parametrize("value", ["maybe", "", "n", "y", "2", 2, -1, 1.0, 0.0, [False], {}, None])
@pytest.mark.parametrize(("job_type", "field"), boolean_fields())
def test_booleans_refuse_anything_else_naming_the_field(job_type, field, value):
    with pytest.raises(JobParamsError) as err:
        spec = registry.get(job_type)
        spec.validate({**minimal_params(spec), field: value})
    assert list(err.value.errors) == [field]
    assert "Enter true or false" in err.value.errors[field][0]
    assert field in str(err.value)


def test_an_absent_boolean_takes_its_initial_value():
    assert registry.get("cache-warm").validate({})["skip_cached"] is True
    assert registry.get("cache-warm").validate({})["dry_run"] is False
    assert registry.get("audiomuse-sync").validate({})["dry_run"] is False


@pytest.mark.parametrize("job_type", ALL_TYPES)
def test_every_number_is_bounded_and_a_huge_one_is_refused(job_type):
    spec = registry.get(job_type)
    numbers = [
        name for name, f in spec.params.base_fields.items() if isinstance(f, forms.IntegerField)
    ]
    for name in numbers:
        with pytest.raises(JobParamsError) as err:
            spec.validate({**minimal_params(spec), name: "9" * 40})
        assert list(err.value.errors) == [name]
        with pytest.raises(JobParamsError):
            spec.validate({**minimal_params(spec), name: -(10**40)})


def test_limit_and_seed_have_sensible_bounds():
    warm, playlist = registry.get("cache-warm"), registry.get("playlist")
    assert warm.validate({"limit": 10_000_000})["limit"] == 10_000_000
    with pytest.raises(JobParamsError, match="limit: Ensure this value is less than"):
        warm.validate({"limit": 10_000_001})
    # The largest integer a JSON reader keeps exact; it fits the bigint column.
    assert playlist.validate({"window": "morning", "seed": 2**53 - 1})["seed"] == 2**53 - 1
    with pytest.raises(JobParamsError, match="seed: Ensure"):
        playlist.validate({"window": "morning", "seed": 2**53})


def test_an_error_quotes_at_most_80_characters_of_a_value():
    huge = "x" * 2_000_000
    for job_type, bad in [("playlist", {"window": huge}), ("cache-warm", {"dry_run": huge})]:
        with pytest.raises(JobParamsError) as err:
            registry.get(job_type).validate(bad)
        assert len(str(err.value)) < 300, str(err.value)
        assert "x" * 81 not in str(err.value)


def test_many_or_long_unknown_names_give_a_short_error():
    bad = {f"{'k' * 5000}{n}": 1 for n in range(1000)}
    with pytest.raises(JobParamsError) as err:
        registry.get("cache-warm").validate(bad)
    assert len(str(err.value)) < 1000
    assert "and 995 more unknown parameters" in str(err.value)


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        (forms.IntegerField(min_value=0), "needs min_value and max_value"),
        (forms.FloatField(max_value=1), "needs min_value and max_value"),
        (forms.CharField(), "needs max_length"),
        (forms.BooleanField(required=False), "use jobs.params.BooleanField"),
    ],
)
def test_a_job_type_with_an_unbounded_field_cannot_be_registered(field, problem):
    form = type("LooseParams", (params.ParamsForm,), {"value": field})
    spec = registry.JobType(name="test-loose", func=print, label="Loose", params=form)
    with pytest.raises(params.UnboundedField, match=problem):
        registry.register(spec)
    with pytest.raises(registry.UnknownJobType):
        registry.get("test-loose")


def test_a_plain_django_form_cannot_be_registered():
    form = type("PlainParams", (forms.Form,), {})
    with pytest.raises(params.UnboundedField, match="ParamsForm"):
        registry.register(registry.JobType(name="test-plain", func=print, label="x", params=form))


# -- generated junk ----------------------------------------------------------------------------
@JUNK_SETTINGS
@given(job_type=st.sampled_from(ALL_TYPES), data=st.data())
def test_junk_params_are_refused_briefly_or_cleaned_never_crash(job_type, data):
    spec = registry.get(job_type)
    names = [*spec.params.base_fields, *type_names()]
    junk = data.draw(st.dictionaries(st.sampled_from(names) | st.text(max_size=30), json_values))
    try:
        cleaned = spec.validate(junk)
    except JobParamsError as exc:
        assert exc.errors
        named = {*spec.params.base_fields, registry.NON_FIELD, *(params.clip(k, 40) for k in junk)}
        assert set(exc.errors) <= named
        assert "\n" not in str(exc)
        assert len(str(exc)) < 1500
    else:
        # Whatever passed is a clean value of its field: JSON, bounded, nothing unknown.
        assert set(cleaned) == set(spec.params.base_fields)
        for name, value in cleaned.items():
            field = spec.params.base_fields[name]
            if isinstance(field, forms.BooleanField):
                assert isinstance(value, bool)
            elif isinstance(field, forms.IntegerField) and value is not None:
                assert field.min_value <= value <= field.max_value
