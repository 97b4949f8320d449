"""Human review: the queue of events and sampled frames, decisions, precision, export.

See ``docs/review.md``.
"""

from sightwire.review.labels import Decision, InvalidDecisionError, Label
from sightwire.review.query import InvalidCursorError
from sightwire.review.records import DecisionRecord, ReviewItem, ReviewPage, RulePrecision
from sightwire.review.store import ReviewItemNotFoundError, ReviewQueue

__all__ = [
    "Decision",
    "DecisionRecord",
    "InvalidCursorError",
    "InvalidDecisionError",
    "Label",
    "ReviewItem",
    "ReviewItemNotFoundError",
    "ReviewPage",
    "ReviewQueue",
    "RulePrecision",
]
