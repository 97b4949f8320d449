"""What a reviewer decides about an item, and how decisions change its labels.

An item starts with the boxes a model proposed, each with a stable ``id`` (its index
among the proposals). Decisions are applied in order: ``relabel``, ``add_box`` and
``remove_box`` edit the labels; ``confirm`` says the labels are right (and complete);
``reject`` says the item is wrong altogether (a false alarm). After any decision but
``reject`` the state is ``confirmed`` when the labels are still the proposals, and
``corrected`` when a reviewer changed them. A later decision overrides an earlier one,
so an item can be reviewed again.

>>> proposed = [Label(id=0, class_name="parcel", box=(10, 10, 50, 40), confidence=0.5)]
>>> labels, state = replay(proposed, [Decision(action="relabel", object_id=0,
...                                            class_name="envelope")])
>>> [(label.class_name, label.box) for label in labels], state
([('envelope', (10.0, 10.0, 50.0, 40.0))], 'corrected')
>>> replay(proposed, [Decision(action="confirm")])[1]
'confirmed'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Box = tuple[float, float, float, float]
ItemKind = Literal["event", "frame"]
ItemState = Literal["pending", "confirmed", "rejected", "corrected"]
Action = Literal["confirm", "reject", "relabel", "add_box", "remove_box"]
MAX_CLASS_NAME = 128


class InvalidDecisionError(ValueError):
    """A decision that cannot apply to the item (unknown box id, missing class...)."""


class Label(BaseModel):
    """One box on an item: proposed by a model (``confidence`` set) or drawn by a
    reviewer (``added``). ``box`` is x1, y1, x2, y2 in the snapshot's pixels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int = Field(ge=0, description="Stable within the item: relabel/remove_box name it")
    class_name: str = Field(min_length=1, max_length=MAX_CLASS_NAME)
    box: Box
    confidence: float | None = None
    track_id: int | None = None
    added: bool = Field(False, description="Drawn by a reviewer, not proposed by a model")


class Decision(BaseModel):
    """A reviewer's decision; the body of a review route.

    >>> Decision(action="add_box", class_name="parcel", box=(0, 0, 20, 10)).box
    (0.0, 0.0, 20.0, 10.0)
    >>> Decision(action="relabel", object_id=1)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Decision
      Value error, relabel needs class_name ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    object_id: int | None = Field(None, ge=0, description="The box of relabel and remove_box")
    class_name: str | None = Field(
        None, min_length=1, max_length=MAX_CLASS_NAME, description="relabel and add_box"
    )
    box: Box | None = Field(None, description="add_box: x1, y1, x2, y2 in snapshot pixels")
    comment: str | None = Field(None, max_length=4000)

    @model_validator(mode="after")
    def _fields_fit_action(self) -> Self:
        needs = _NEEDS[self.action]
        given = {
            name for name in ("object_id", "class_name", "box") if getattr(self, name) is not None
        }
        if needs - given:
            raise ValueError(f"{self.action} needs {', '.join(sorted(needs - given))}")
        if given - needs:
            raise ValueError(f"{self.action} takes no {', '.join(sorted(given - needs))}")
        if self.box is not None and not _valid_box(self.box):
            raise ValueError(f"box {list(self.box)} must be finite with x1 < x2 and y1 < y2")
        return self


_NEEDS: dict[Action, set[str]] = {
    "confirm": set(),
    "reject": set(),
    "relabel": {"object_id", "class_name"},
    "add_box": {"class_name", "box"},
    "remove_box": {"object_id"},
}


def _valid_box(box: Box) -> bool:
    x1, y1, x2, y2 = box
    return all(math.isfinite(v) for v in box) and x1 < x2 and y1 < y2


def apply_decision(
    proposed: Sequence[Label], labels: Sequence[Label], decision: Decision
) -> tuple[list[Label], ItemState]:
    """The labels and state after ``decision``, given the proposals and current labels."""
    current = list(labels)
    if decision.action == "reject":
        return current, "rejected"
    if decision.action in ("relabel", "remove_box"):
        index = _index_of(current, decision.object_id)
        if decision.action == "remove_box":
            del current[index]
        else:
            current[index] = current[index].model_copy(update={"class_name": decision.class_name})
    elif decision.action == "add_box":
        assert decision.class_name is not None and decision.box is not None  # validated
        next_id = max([label.id for label in [*proposed, *current]], default=-1) + 1
        current.append(
            Label(id=next_id, class_name=decision.class_name, box=decision.box, added=True)
        )
    unchanged = current == list(proposed)
    return current, "confirmed" if unchanged else "corrected"


def replay(
    proposed: Sequence[Label], decisions: Sequence[Decision]
) -> tuple[list[Label], ItemState]:
    """The labels and state after ``decisions`` in order (``pending`` when none)."""
    labels: list[Label] = list(proposed)
    state: ItemState = "pending"
    for decision in decisions:
        labels, state = apply_decision(proposed, labels, decision)
    return labels, state


def _index_of(labels: Sequence[Label], object_id: int | None) -> int:
    for index, label in enumerate(labels):
        if label.id == object_id:
            return index
    known = [label.id for label in labels]
    raise InvalidDecisionError(f"no box {object_id} on this item (boxes: {known or 'none'})")
