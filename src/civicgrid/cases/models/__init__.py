"""The case engine's tables: cases, assignments, timers, the timeline, supervision, ratings and the
worker's heartbeat, the documents. (The working calendar is ``civicgrid.workcal``, the notification outbox
``civicgrid.notify``.)"""

from civicgrid.cases.models.case import (
    ApprovalRequest,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Case,
    Channel,
    Priority,
    Rating,
    RatingSource,
    Satisfaction,
    Supervision,
    TimelineEntry,
)
from civicgrid.cases.models.documents import (
    CaseDocument,
    Delivery,
    DeliveryMethod,
    DocumentKind,
    DocumentTemplate,
    DocumentVersion,
)
from civicgrid.cases.models.timers import Timer, TimerState
from civicgrid.cases.models.worker import WorkerHeartbeat

__all__ = [
    "ApprovalRequest",
    "Assignment",
    "AssignmentRole",
    "AssignmentState",
    "Case",
    "CaseDocument",
    "Channel",
    "Delivery",
    "DeliveryMethod",
    "DocumentKind",
    "DocumentTemplate",
    "DocumentVersion",
    "Priority",
    "Rating",
    "RatingSource",
    "Satisfaction",
    "Supervision",
    "TimelineEntry",
    "Timer",
    "TimerState",
    "WorkerHeartbeat",
]
