"""The columnar plan: a batch run over event files as whole-column operations.

The compiled evaluator (`compiler`) handles one event at a time, as a stream
must. A batch run over saved files knows every event before it starts, and
most of what a scheme says is order-free within a member and a period: a
condition is a column expression, `limit N per day` is a row number within
(member, day), `cap C per day` a cumulative sum clipped at C, a streak a
run length over a member's days, `top 3 per day by earliest` a sort within
the day. This package states those in Polars, over every event at once and on
every core, and then puts the records in the order the interpreter writes
them (each event's records in file order of the rules, a period's rank
awards just before the first event after its close) with the running
balances as one cumulative sum per member.

One meaning, two forms: `plan_for` accepts a scheme only when every construct
it uses is written here (`why_not` says what is missing, and `run
--explain-plan` prints it), and `run_columnar` accepts an input only when it
is plain (every line a flat JSON object in the strict form `reading` checks, ids
unique, times in order, attributes present). Anything else returns None
before a byte is written, and the caller runs the compiled loop, which has
the interpreter's answer for every input. Calendar arithmetic (days, period
keys and ends, daylight saving) is never redone in columns: it is asked of
the scheme's `Calendar` once per distinct day and joined in.

Its modules, each importing only those above it in this list (tests/test_layout.py):

- `conditions`: a rule's condition as a Boolean column expression;
- `plan`: whether a scheme takes the plan (`why_not`, `explain`, `split_why_not`)
  and the plan itself (`plan_for`, `ColumnarPlan`);
- `reading`: event files, a block at a time, as frames of plain, dated events;
- `chunks`: a chunk of events, what one chunk carries to the next, the record
  rows the stages answer with and the forms their lines are written from;
- `awards`, `steps`, `streaks`, `ranks`: the stages (per-event awards with their
  limits and caps; the loop's own rule steps; streaks; ranks and boards of members);
- `closes`: the interpreter's own closes, for teams, ranks by points, rate and
  missing, running boards and grants;
- `stages`: which stages a chunk goes through, per member or across members;
- `writing`: budgets, balances and each record's JSON line;
- `workers`: `--jobs`, the per-member stages in worker processes;
- `running`: `run_columnar`, the chunks in order, from files to records.
"""

from __future__ import annotations

from incentive.columnar.plan import ColumnarPlan, explain, plan_for, split_why_not, why_not
from incentive.columnar.running import run_columnar
from incentive.columnar.workers import work

__all__ = [
    "ColumnarPlan",
    "explain",
    "plan_for",
    "run_columnar",
    "split_why_not",
    "why_not",
    "work",
]
