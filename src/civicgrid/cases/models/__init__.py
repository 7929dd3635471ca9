"""The case engine's tables: cases, assignments, timers, the timeline, supervision, ratings,
the working calendar and the notification outbox."""

from civicgrid.cases.models.calendar import CalendarYear, WorkingDay
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
from civicgrid.cases.models.outbox import InboxMessage, Notification, NotificationState, WorkerHeartbeat
from civicgrid.cases.models.timers import Timer, TimerState

__all__ = [
    "ApprovalRequest",
    "Assignment",
    "AssignmentRole",
    "AssignmentState",
    "CalendarYear",
    "Case",
    "Channel",
    "InboxMessage",
    "Notification",
    "NotificationState",
    "Priority",
    "Rating",
    "RatingSource",
    "Satisfaction",
    "Supervision",
    "TimelineEntry",
    "Timer",
    "TimerState",
    "WorkerHeartbeat",
    "WorkingDay",
]
