"""Django admin strings that Django's own zh_Hans catalogue lacks. Marking them here keeps them in our
catalogue when ``makemessages`` runs (ours takes precedence over Django's)."""

from django.utils.translation import gettext_noop

EXTRA = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
)
