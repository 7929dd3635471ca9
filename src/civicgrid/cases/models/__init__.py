"""The case engine's tables: cases, assignments, timers, the timeline, parties, supervision, ratings,
links between cases, the documents and the worker's heartbeat. (The working calendar is
``civicgrid.workcal``, the notification outbox
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
from civicgrid.cases.models.links import LINK_KINDS, RELATION_LABELS, CaseLink, LinkKind
from civicgrid.cases.models.party import PARTY_SEARCH_FIELDS, PARTY_SENSITIVE_FIELDS, Party
from civicgrid.cases.models.timers import Timer, TimerState
from civicgrid.cases.models.worker import WorkerHeartbeat

__all__ = [
    "LINK_KINDS",
    "PARTY_SEARCH_FIELDS",
    "PARTY_SENSITIVE_FIELDS",
    "RELATION_LABELS",
    "ApprovalRequest",
    "Assignment",
    "AssignmentRole",
    "AssignmentState",
    "Case",
    "CaseDocument",
    "CaseLink",
    "Channel",
    "Delivery",
    "DeliveryMethod",
    "DocumentKind",
    "DocumentTemplate",
    "DocumentVersion",
    "LinkKind",
    "Party",
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
