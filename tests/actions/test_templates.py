"""Templates: dotted paths in plain dicts, escaping, types kept, clear errors."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sightwire.actions.templates import (
    MissingFieldError,
    Template,
    TemplateError,
    TemplateSyntaxError,
    event_context,
    header_value,
    render_json,
    url_part,
)
from sightwire.core import Event

from .conftest import make_event


def render(text: str, event: Event) -> str:
    return Template.parse(text).render(event_context(event))


def test_envelope_data_object_and_attribute_paths(event: Event) -> None:
    text = (
        "{event.id}|{event.type}|{data.camera}|{data.attributes.tracking_number}"
        "|{object.tracking_number}|{object.class_name}|{tracking_number}|{data.objects.0.box.2}"
    )
    assert render(text, event) == (
        f"{event.id}|com.sightwire.parcel.mismatch|belt-1|1Z999AA10123456784"
        "|1Z999AA10123456784|parcel|1Z999AA10123456784|110.0"
    )


def test_doubled_braces_are_literal(event: Event) -> None:
    assert render("{{event.id}} {{", event) == "{event.id} {"


def test_an_object_attribute_wins_over_the_first_object() -> None:
    event = make_event(object={"class_name": "pallet"})
    assert render("{object.class_name}", event) == "pallet"


@pytest.mark.parametrize(
    "text",
    [
        "{event.id!r}",
        "{event.id:>40}",
        "{event.__class__.__init__.__globals__[os]}",
        "{data.camera.upper()}",
        "{data[camera]}",
        "{}",
        "{event id}",
        "{a..b}",
        "unbalanced }",
        "{ {event.id} }",
    ],
)
def test_anything_but_a_dotted_path_is_refused(text: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        Template.parse(text)


def test_python_internals_are_not_reachable(event: Event) -> None:
    # a path is dict keys only: __class__ is just a key that is not there
    with pytest.raises(MissingFieldError, match=r"event\.__class__"):
        render("{event.__class__}", event)


def test_missing_field_names_it_and_lists_what_is_there(event: Event) -> None:
    with pytest.raises(MissingFieldError) as caught:
        render("/parcels/{data.attributes.weight_kg}", event)
    message = str(caught.value)
    assert "'data.attributes.weight_kg'" in message
    assert "data.attributes.tracking_number" in message
    assert caught.value.path == "data.attributes.weight_kg"


def test_list_index_out_of_range_is_missing(event: Event) -> None:
    with pytest.raises(MissingFieldError, match=r"data\.objects\.3"):
        render("{data.objects.3.class_name}", event)


def test_url_values_are_percent_encoded_as_one_segment() -> None:
    event = make_event(tracking_number="A/B ?#&=%")
    url = Template.parse("https://wms/parcels/{tracking_number}/route?c={data.camera}")
    rendered = url.render(event_context(event), url_part)
    assert rendered == "https://wms/parcels/A%2FB%20%3F%23%26%3D%25/route?c=belt-1"


def test_an_empty_url_value_is_an_error() -> None:
    event = make_event(tracking_number="")
    with pytest.raises(TemplateError, match="empty"):
        Template.parse("https://wms/{tracking_number}").render(event_context(event), url_part)


def test_header_values_cannot_add_headers() -> None:
    event = make_event(ref="x\r\nX-Admin: yes")
    with pytest.raises(TemplateError, match="line break"):
        Template.parse("{ref}").render(event_context(event), header_value)


def test_json_body_keeps_types_of_single_placeholders(event: Event) -> None:
    body = {
        "length": "{data.attributes.length_mm}",
        "box": "{data.objects.0.box}",
        "labelled": "mm={data.attributes.length_mm}",
        "nested": [{"id": "{event.id}"}, 3, None, True],
        "snapshot": "{data.snapshot}",
    }
    assert render_json(body, event_context(event)) == {
        "length": 412.5,
        "box": [10.0, 20.0, 110.0, 220.0],
        "labelled": "mm=412.5",
        "nested": [{"id": event.id}, 3, None, True],
        "snapshot": None,
    }


def test_json_body_missing_field_raises(event: Event) -> None:
    with pytest.raises(MissingFieldError, match="nope"):
        render_json({"a": ["{nope}"]}, event_context(event))


@given(st.text(min_size=1))
def test_any_value_stays_inside_its_url_segment(value: str) -> None:
    event = make_event(ref=value)
    url = Template.parse("https://wms/p/{ref}/route").render(event_context(event), url_part)
    segment = url.removeprefix("https://wms/p/").removesuffix("/route")
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert unquote(segment) == value


@given(st.text())
def test_parsing_never_fails_with_anything_but_a_syntax_error(text: str) -> None:
    try:
        template = Template.parse(text)
    except TemplateSyntaxError:
        return
    literal = "".join(p for p in template.parts if isinstance(p, str))
    assert len(literal) <= len(text)
