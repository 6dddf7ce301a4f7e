"""callarchive.scheduling: when policies run, and who runs them (DESIGN.md section 7).

due_slot, due_runs     pure: the run due at `now` (every N minutes or cron; active hours)
Scheduler              claims each due run once across nodes, hands it to a dispatcher
LocalDispatcher        runs claimed jobs in this process (`callarchive serve`)
execute_pair           one job: windows until caught up; a disabled policy or a stopping
                       node ends it after the current window
keep_alive, is_alive   server registration and heartbeats
DailyReconciliation    each pair's last finished day reconciled once (and incomplete days again)
"""

from callarchive.scheduling.due import (
    DueRun,
    due_runs,
    due_slot,
    in_active_hours,
    latest_slot,
    runs_here,
)
from callarchive.scheduling.jobs import (
    MAX_WINDOWS,
    PairOpener,
    WindowRunner,
    execute_pair,
    run_windows,
)
from callarchive.scheduling.node import HEARTBEAT_S, STALE_AFTER, is_alive, keep_alive
from callarchive.scheduling.reconciling import RECONCILE_TICK_S, DailyReconciliation, DayJob
from callarchive.scheduling.scheduler import (
    TICK_S,
    Dispatcher,
    LocalDispatcher,
    Scheduler,
)

__all__ = [
    "HEARTBEAT_S",
    "MAX_WINDOWS",
    "RECONCILE_TICK_S",
    "STALE_AFTER",
    "TICK_S",
    "DailyReconciliation",
    "DayJob",
    "Dispatcher",
    "DueRun",
    "LocalDispatcher",
    "PairOpener",
    "Scheduler",
    "WindowRunner",
    "due_runs",
    "due_slot",
    "execute_pair",
    "in_active_hours",
    "is_alive",
    "keep_alive",
    "latest_slot",
    "run_windows",
    "runs_here",
]
