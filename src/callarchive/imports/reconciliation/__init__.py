"""Reconciliation: proving that nothing of a past day was missed.

For a policy and import source and a day, Genesys is asked again for every recorded voice
conversation of the day, and each is accounted for (`account`, pure): archived, skipped by the
recording rules, in the retry buffer, not reached by the import yet, or missing. `Reconciler`
does it against Genesys and the archive, stores the result, raises "Conversations missing from
the archive", and re-imports the missing ones through the retry buffer. `due_day` (pure) says
which day the daily job reconciles.
"""

from callarchive.imports.reconciliation.accounting import (
    Accounted,
    DayAccount,
    Verdict,
    account,
    day_window,
    due_day,
)
from callarchive.imports.reconciliation.runner import Reconciler, reconcilable

__all__ = [
    "Accounted",
    "DayAccount",
    "Reconciler",
    "Verdict",
    "account",
    "day_window",
    "due_day",
    "reconcilable",
]
