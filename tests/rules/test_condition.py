"""CEL conditions and attribute templates: safe, checked at load, friendly numbers."""

from __future__ import annotations

import pytest

from sightwire.rules import EvaluationError, Expression, ExpressionError, Template
from sightwire.rules.condition import to_cel

NAMES = {"object", "manifest"}
PARCEL = to_cel({"object": {"length_mm": 612.5, "barcode": "1Z99", "count": 5.0}, "manifest": None})


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "object.__class__.__mro__",
        "open('/etc/passwd')",
        "exec('1')",
        "google.protobuf.Struct{}",
        "os.system",
    ],
)
def test_python_is_out_of_reach(source: str) -> None:
    try:
        expression = Expression(source, NAMES)
    except ExpressionError:
        return  # refused at load: the usual case
    with pytest.raises(EvaluationError):  # or it finds nothing to reach
        expression.evaluate(PARCEL)


def test_python_internals_are_not_fields() -> None:
    for source in ("object.__class__", "object['__class__']", "type(object).__init__"):
        with pytest.raises(EvaluationError):
            Expression(source, NAMES).evaluate(PARCEL)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("object.length_mm >", "syntax"),
        ("parcel.length_mm > 1", "unknown name 'parcel'"),
        ("round(object.length_mm) > 1", "unknown function 'round'"),
        ("x" * 5000, "longer than"),
    ],
)
def test_bad_expressions_fail_at_load(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        Expression(source, NAMES)


def test_ints_and_doubles_mix() -> None:
    assert Expression("object.count == 5", NAMES).holds(PARCEL)
    assert Expression("object.length_mm > 600", NAMES).holds(PARCEL)
    assert Expression("abs(600 - object.length_mm) > 12", NAMES).holds(PARCEL)
    assert Expression("max(object.count, 7) == 7 && min(object.count, 7) == 5", NAMES).holds(PARCEL)


def test_strings_and_macros() -> None:
    assert Expression('object.barcode.startsWith("1Z")', NAMES).holds(PARCEL)
    assert Expression('object.barcode.matches("^1Z[0-9]+$")', NAMES).holds(PARCEL)
    assert Expression("[1, 2, 3].exists(n, n > object.count - 3)", NAMES).holds(PARCEL)


def test_missing_data_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError):
        Expression("object.weight_kg > 1", NAMES).holds(PARCEL)
    with pytest.raises(EvaluationError):
        Expression("manifest.length_mm > 1", NAMES).holds(PARCEL)  # manifest is null
    assert Expression("manifest == null", NAMES).holds(PARCEL)


def test_a_condition_must_be_true_or_false() -> None:
    with pytest.raises(EvaluationError, match="true or false"):
        Expression("object.length_mm", NAMES).holds(PARCEL)


def test_templates_keep_types_or_make_text() -> None:
    assert Template("{object.length_mm}", NAMES).render(PARCEL) == 612.5
    assert Template("{object.length_mm > 600}", NAMES).render(PARCEL) is True
    text = Template("parcel {object.barcode} is {object.length_mm} mm {{ok}}", NAMES)
    assert text.render(PARCEL) == "parcel 1Z99 is 612.5 mm {ok}"
    assert Template("QC", NAMES).render(PARCEL) == "QC"
    assert Template(3, NAMES).render(PARCEL) == 3
    with pytest.raises(ExpressionError, match="unknown name"):
        Template("{parcel.id}", NAMES)
    with pytest.raises(ExpressionError, match="without its"):
        Template("{object.barcode", NAMES)


@pytest.mark.parametrize(
    ("source", "fields"),
    [
        ("object.length_mm > 100.0 && object.barcode != ''", {"object": {"length_mm", "barcode"}}),
        ("has(object.barcode) ? object.barcode.size() > 3 : false", {"object": {"barcode"}}),
        ("size(object) > 2 && object.a == 1", {}),  # object whole
        ('object["a"] == 1', {}),
        ("objects.all(object, object.q > 1) && object.z > 0", {"object": {"z"}}),
        ("observation.dwell_s > manifest.limit_s", {"observation": {"dwell_s"}}),
    ],
)
def test_an_expression_knows_the_fields_it_reads(source: str, fields: dict[str, set[str]]) -> None:
    expression = Expression(source, names={"object", "objects", "observation"} | {"manifest"})
    expected = {name: frozenset(f) for name, f in fields.items()}
    expected |= {"manifest": frozenset({"limit_s"})} if "manifest" in source else {}
    assert expression.fields == expected
