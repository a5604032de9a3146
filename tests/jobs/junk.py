"""Hypothesis strategies for junk input, shared by the property tests.

Bounded example counts and no deadline: the machine is shared and loaded, and a slow example
is not a wrong one (pytest-timeout still ends a hung run).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from jobs import registry

JUNK_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

WORDS = [
    "true", "false", "TRUE", "No", "yes", "on", "off", "1", "0", "maybe", "", " ", "null",
    "None", "-1", "2", "1.5", "1e3", "9" * 40, "-" + "9" * 40, "\u0661\u0662", "\uff10",
    "\x00", "morning",
    "'; DROP TABLE job_runs; --", "<script>alert(1)</script>", "%00", "../../etc/passwd",
]  # fmt: skip


def type_names() -> list[str]:
    """Every registered type's field names: junk that looks like real parameters."""
    return sorted({name for spec in registry.all_types() for name in spec.params.base_fields})


huge_text = st.sampled_from([100, 5_000, 2_000_000]).map(lambda n: "x" * n)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**45), max_value=10**45)
    | st.floats()
    | st.sampled_from(WORDS)
    | st.text(max_size=20)
    | huge_text
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
# What a form field or a CLI argument can carry: text.
text_values = st.sampled_from(WORDS) | st.text(max_size=20) | st.integers().map(str)


def minimal_params(spec: registry.JobType) -> dict[str, object]:
    """Values for the fields a type requires and gives no default for (a window, a marker)."""
    needed: dict[str, object] = {}
    for name, field in spec.params.base_fields.items():
        if field.required and field.initial is None:
            choices = getattr(field, "choices", None)
            needed[name] = next(iter(choices))[0] if choices else "x"
    return needed
