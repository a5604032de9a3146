"""Job parameters: the form every job type's parameters are, and its strict, bounded fields.

The form is the only parser (DESIGN.md §6, "One parameter meaning"). CLI flags, ``--param
k=v``, HTML form posts and JSON bodies all hand it what they were given and nothing for what
they were not: an absent field takes the form's initial value on every route
(``JobType.bind``). So every field must mean the same whatever the route spells it as:

- booleans accept only true/false, 1/0, yes/no, on/off (any case; JSON true/false and 0/1);
  Django's own ``BooleanField`` takes "no", "maybe" and ``[false]`` for true. The checkbox
  that renders one sends its value either way (a hidden "false" before the box), so a
  dashboard form never leaves one out and an unticked box is meant literally;
- every number has both bounds and every text a maximum length (``check_bounded``, enforced
  when a job type is registered);
- an error quotes at most ``QUOTE_LIMIT`` characters of the value it is about.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html

if TYPE_CHECKING:
    from django.forms.renderers import BaseRenderer
    from django.utils.safestring import SafeString

QUOTE_LIMIT = 80
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preview(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value as an error message quotes it: a string in quotes, anything else as JSON; at
    most ``limit`` characters, so a 2 MB value costs an error of the usual size."""
    if isinstance(value, str):
        # Cut before quoting: repr of a 2 MB string would copy it whole first.
        return clip(repr(value[: limit + 1]), limit)
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def parse_bool(value: object) -> bool | None:
    """``value`` as a boolean, or None when it is not one of the accepted spellings."""
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):  # JSON 0/1, not 1.0 or 2
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


class Checkbox(forms.CheckboxInput):
    """A checkbox sent either way: a hidden ``false`` before the box, which the box's own
    value (``on``) follows when ticked. The last value of a name wins (as ``QueryDict``
    reads it), so ticked means true, unticked false, and only a form without the field at
    all leaves it absent (the type's default)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, check_test=lambda value: parse_bool(value) is True)

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        hidden = format_html('<input type="hidden" name="{}" value="false">', name)
        return hidden + super().render(name, value, attrs, renderer)

    def format_value(self, value: Any) -> str | None:
        return None  # the box always sends "on"; what it shows is ``checked``

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data


class BooleanField(forms.BooleanField):
    """A strict boolean (see the module docstring); absent means ``initial`` (default False)."""

    widget = Checkbox
    default_error_messages = {
        "invalid": "Enter true or false (or 1/0, yes/no, on/off), not %(value)s.",
    }

    def __init__(self, *, initial: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(initial=initial, **kwargs)

    def to_python(self, value: Any) -> bool:
        parsed = parse_bool(value)
        if parsed is None:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            )
        return parsed

    def validate(self, value: Any) -> None:
        # Django's would refuse False when required; here any parsed boolean is an answer.
        return None

    def has_changed(self, initial: Any, data: Any) -> bool:
        return parse_bool(data) != parse_bool(initial)


def _quoted(error: ValidationError) -> ValidationError:
    """``error`` with each quoted value cut to ``QUOTE_LIMIT`` (Django's messages quote the
    whole value: "Select a valid choice. <2 MB> is not one of the available choices.")."""
    for item in error.error_list:
        params = getattr(item, "params", None)
        if isinstance(params, dict) and "value" in params:
            item.params = {**params, "value": preview(params["value"])}
    return error


class ParamsForm(forms.Form):
    """The base of every job type's parameters form: its errors quote values briefly."""

    def add_error(self, field: str | None, error: Any) -> None:
        if not isinstance(error, ValidationError):
            error = ValidationError(error)
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                super().add_error(name, [_quoted(e) for e in errors])
            return
        super().add_error(field, _quoted(error))

    def clip_for_display(self) -> None:
        """Validate, then cut every text value to what its field can hold: the form shown
        again with its errors must not echo a 2 MB paste back into the page."""
        if not self.is_bound or not self.errors:
            return
        data: dict[str, Any] = {}
        for key in self.data:
            value = self.data.get(key)
            field = self.fields.get(key)
            limit = getattr(field, "max_length", None) or QUOTE_LIMIT
            data[key] = clip(value, limit) if isinstance(value, str) else value
        self.data = data


class UnboundedField(TypeError):
    """A params form with a field that takes unbounded input: a programming error."""


def check_bounded(form_class: type[forms.Form]) -> None:
    """Refuse a params form that would take an unbounded number or text, or a lax boolean."""
    if not issubclass(form_class, ParamsForm):
        raise UnboundedField(f"{form_class.__name__} must subclass jobs.params.ParamsForm")
    for name, field in form_class.base_fields.items():
        problem = ""
        if isinstance(field, forms.BooleanField) and not isinstance(field, BooleanField):
            problem = "use jobs.params.BooleanField (strict true/false)"
        elif isinstance(field, forms.IntegerField):  # FloatField and DecimalField too
            if field.min_value is None or field.max_value is None:
                problem = "needs min_value and max_value"
        elif isinstance(field, forms.CharField) and field.max_length is None:
            problem = "needs max_length"
        if problem:
            raise UnboundedField(f"{form_class.__name__}.{name}: {problem}")
