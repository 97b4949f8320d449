"""How decisions change an item's labels and state (no database)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sightwire.review.labels import Decision, InvalidDecisionError, Label, apply_decision, replay

PROPOSED = [
    Label(id=0, class_name="parcel", box=(10, 10, 50, 40), confidence=0.55),
    Label(id=1, class_name="parcel", box=(60, 10, 90, 40), confidence=0.35),
]


def relabel(object_id: int, name: str) -> Decision:
    return Decision(action="relabel", object_id=object_id, class_name=name)


def test_confirming_untouched_proposals_confirms() -> None:
    assert replay(PROPOSED, [Decision(action="confirm")]) == (PROPOSED, "confirmed")
    assert replay(PROPOSED, []) == (PROPOSED, "pending")


def test_edits_correct_and_a_reject_rejects() -> None:
    labels, state = replay(PROPOSED, [Decision(action="remove_box", object_id=1)])
    assert (labels, state) == ([PROPOSED[0]], "corrected")
    assert replay(PROPOSED, [relabel(0, "envelope"), Decision(action="reject")])[1] == "rejected"
    # a correction after a rejection overrides it
    assert replay(PROPOSED, [Decision(action="reject"), relabel(0, "envelope")])[1] == "corrected"


def test_relabelling_back_to_the_proposal_is_a_confirmation() -> None:
    decisions = [relabel(0, "envelope"), relabel(0, "parcel"), Decision(action="confirm")]
    assert replay(PROPOSED, decisions) == (PROPOSED, "confirmed")


def test_added_boxes_get_new_ids_that_later_decisions_name() -> None:
    add = Decision(action="add_box", class_name="pallet", box=(0, 50, 100, 120))
    labels, _ = replay(PROPOSED, [Decision(action="remove_box", object_id=1), add, add])
    assert [(label.id, label.added) for label in labels] == [(0, False), (2, True), (3, True)]
    labels, state = apply_decision(PROPOSED, labels, relabel(3, "crate"))
    assert [label.class_name for label in labels] == ["parcel", "pallet", "crate"]
    assert state == "corrected"


def test_a_removed_box_cannot_be_edited() -> None:
    labels, _ = replay(PROPOSED, [Decision(action="remove_box", object_id=1)])
    with pytest.raises(InvalidDecisionError, match="no box 1"):
        apply_decision(PROPOSED, labels, relabel(1, "envelope"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "relabel", "class_name": "x"}, "relabel needs object_id"),
        ({"action": "confirm", "object_id": 0}, "confirm takes no object_id"),
        ({"action": "add_box", "class_name": "x", "box": (5, 5, 5, 9)}, "x1 < x2"),
        ({"action": "add_box", "class_name": "x", "box": (0, 0, float("nan"), 9)}, "finite"),
        ({"action": "add_box", "class_name": "", "box": (0, 0, 4, 4)}, "at least 1 character"),
        ({"action": "shrug"}, "confirm"),
    ],
)
def test_malformed_decisions_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Decision.model_validate(fields)
