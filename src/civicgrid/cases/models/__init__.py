"""The case engine's tables: cases, assignments, timers, the timeline, supervision, ratings, links
between cases and the worker's heartbeat. (The working calendar is ``civicgrid.workcal``, the notification outbox
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
from civicgrid.cases.models.links import LINK_KINDS, RELATION_LABELS, CaseLink, LinkKind
from civicgrid.cases.models.timers import Timer, TimerState
from civicgrid.cases.models.worker import WorkerHeartbeat

__all__ = [
    "LINK_KINDS",
    "RELATION_LABELS",
    "ApprovalRequest",
    "Assignment",
    "AssignmentRole",
    "AssignmentState",
    "Case",
    "CaseLink",
    "Channel",
    "LinkKind",
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
