"""Every diagnostic the parser and checker give: code, position and the hint an operator needs."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import incentive
from incentive.diagnostics import SchemeError

ERRORS_MD = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def diagnostics(text: str) -> list[incentive.Diagnostic]:
    try:
        return incentive.check(
            incentive.parse(text, "t.incentive"), "t.incentive", text
        ).diagnostics
    except SchemeError as err:
        return list(err.diagnostics)


LEAGUE = "league weekly { on lesson per week by count cohort 3 tiers a, b promote 1 }"


def wrap(body: str, header: str = "") -> str:
    return f'scheme "t" {{\n{header}\n{body}\n}}\n'


CASES = [
    # (code, scheme text, expected line, a fragment the message or hints must contain)
    ("E0101", wrap("rule a { on checkin awrd 5 }"), 3, "did you mean `award`?"),
    ("E0101", wrap("rul a { on checkin award 5 }"), 3, "did you mean `rule`?"),
    ("E0101", wrap("rule a { on x award 1 limit 1 per dya }"), 3, "did you mean `day`?"),
    ("E0102", "scheme 'x' {}", 1, "double quotes"),
    ("E0103", 'scheme "x" {\n rule a { on x award 1 limit 1 per day }\n', 2, "still open"),
    ("E0104", wrap("rule a { on x where " + "not " * 200 + "ok award 1 once }"), 3, "100 levels"),
    ("E0105", wrap("rule a { on x award 1" + "0" * 99 + " once }"), 3, "12 digits"),
    ("E0105", wrap("rule a { on x award 0.0000001 once }"), 3, "decimal places"),
    ("E0106", wrap("", 'timezone "' + "x" * 2000 + '"'), 2, "1000 characters"),
    ("E0107", wrap("", 'timezone "Asia\\qShanghai"'), 2, "unknown escape"),
    ("E0201", wrap("rule a { on x award 1 once }\nrule a { on y award 1 once }"), 4, "first is on"),
    ("E0202", wrap("", 'timezone "UTC"\ntimezone "UTC"'), 3, "more than once"),
    ("E0203", wrap("", 'timezone "Asia/Shangai"'), 2, "did you mean `Asia/Shanghai`?"),
    ("E0204", wrap("", "day ends 25:00"), 2, "HH:MM"),
    ("E0205", wrap("", "week starts sundy"), 2, "did you mean `sunday`?"),
    ("E0206", wrap("", "season 2026-03-21 to 2026-03-01"), 2, "before it starts"),
    ("E0206", wrap("", "season 2026-02-30 to 2026-03-01"), 2, "not a calendar date"),
    (
        "E0207",
        wrap("rule a { on x award 1 coin once }", "currency coins"),
        3,
        "did you mean `coins`?",
    ),
    (
        "E0208",
        wrap("group chat { cap 20 per day }\nrule a { on x award 1 group caht }"),
        4,
        "did you mean `chat`?",
    ),
    ("E0209", wrap("", "currency coins, coins"), 2, "declared twice"),
    ("E0210", wrap("rule a { award 1 once }"), 3, "`on` clause"),
    ("E0211", wrap("rule a { on x once }"), 3, "`award` clause"),
    ("E0212", wrap("rule a { on x on y award 1 once }"), 3, "more than one `on`"),
    ("E0212", wrap("rule a { on x on y award 1 once }"), 3, "combine them: `on a, b`"),
    ("E0212", wrap("rule a { on x where a where b award 1 once }"), 3, "`where x and y`"),
    ("E0213", wrap("rule a { on x award 1 limit 0 per day }"), 3, "at least 1"),
    ("E0213", wrap("rule a { on x award 1 cap 0 per day }"), 3, "at least 1"),
    ("E0214", wrap("rule a { on x award 1 limit 1 per day limit 3 per day }"), 3, "two limits"),
    ("E0214", wrap("rule a { on x award 1 cap 5 per day cap 9 per day }"), 3, "two caps"),
    ("E0215", wrap("rule a { on x award 1 limit 1 per season }"), 3, "needs a season"),
    (
        "E0216",
        wrap("rule a { on chekin award 1 once }", "events { checkin }"),
        3,
        "did you mean `checkin`?",
    ),
    (
        "E0217",
        wrap("rule a { on hw where wrods > 5 award 1 once }", "events { hw(words: number) }"),
        3,
        "did you mean `words`?",
    ),
    ("E0218", wrap("", "events { hw(words: nubmer) }"), 2, "did you mean `number`?"),
    (
        "E0219",
        wrap(
            "rule a { on hw where words > 5 award 1 once }\n"
            'rule b { on hw where words == "long" award 1 once }'
        ),
        4,
        "cannot compare",
    ),
    ("E0219", wrap('rule a { on hw where words > "5" award 1 once }'), 3, "needs a number"),
    (
        "E0220",
        wrap("rule a { on hw where words award 1 once }", "events { hw(words: number) }"),
        3,
        "true or false",
    ),
    ("E0221", wrap('rule a { on hw award "five" once }'), 3, "must be a number"),
    ("E0222", wrap("rule a { on hw award mni(a, 2) once }"), 3, "did you mean `min`?"),
    ("E0223", wrap("rule a { on hw award words / 0 once }"), 3, "division by zero"),
    ("E0224", wrap("rule a { on x award 1 once }\nboost b { times 0 }"), 4, "more than 0"),
    ("E0225", wrap("rule a { on x award 1 once }\nboost b { on monday }"), 4, "by how much"),
    (
        "E0226",
        wrap(
            "group g { cap 5 per day }\nrule a { on x award 1 coins group g }\n"
            "rule b { on y award 1 xp group g }",
            "currency coins, xp",
        ),
        5,
        "mixes",
    ),
    ("E0228", wrap("rule s { on hw streak per day award 5 at 7 award 20 }"), 3, "at 7 award 5"),
    ("E0228", wrap("rule s { on hw streak per day milestone count at 7 award 20 }"), 3, "both"),
    ("E0229", wrap("rule s { on hw award 5 at 7 award 20 }"), 3, "belong to a `streak`"),
    ("E0229", wrap("rule s { on hw streak per day }"), 3, "does not say what it pays"),
    ("E0229", wrap("rule s { on hw milestone count every 3 award 1 }"), 3, "not a milestone"),
    (
        "E0230",
        wrap("rule s { on hw streak per day at 3 award 1 limit 1 per day }"),
        3,
        "no `limit`",
    ),
    ("E0214", wrap("rule s { on hw streak per day at 3 award 1 at 3 award 2 }"), 3, "two tiers"),
    ("E0215", wrap("rule s { on hw streak per season at 3 award 1 }"), 3, "one period"),
    (
        "E0219",
        wrap('rule s { on hw where words == "x" milestone sum words at 3 award 1 }'),
        3,
        "needs a number",
    ),
    ("W0301", wrap("rule chat { on message award 1 }"), 3, "without limit"),
    ("W0302", wrap("rule a { on x award 1 limit 9 per day limit 5 per week }"), 3, "never bind"),
    ("W0303", wrap("group g { cap 5 per day }\nrule a { on x award 1 once }"), 3, "no rules"),
    (
        "W0305",
        wrap(
            "rule a { on x award 1 once }\nboost b { times 2 from 2026-01-01 to 2026-01-02 }",
            "season 2026-03-01 to 2026-03-21",
        ),
        4,
        "outside the season",
    ),
    # ---- the Chinese spelling (tests/test_spelling.py has the rest) ----
    ("E0111", wrap("rule a { on x award 1 once }\n规则 b { 当 x 奖励 1 }"), 4, "`规则` is `rule`"),
    ("E0111", '方案 "t" {\n  rule a { 当 x 奖励 1 }\n}\n', 2, "`rule` is `规则`"),
    ("E0112", '方案 "t" {\n  规则 奖励加倍 { 当 x 奖励 1 }\n}\n', 2, "`「奖励加倍」`"),
    # ---- the rest of errors.md: every code has a case, so its severity is checked ----
    ("E0108", wrap("  # padding padding padding padding\n" * 30_000), 1, "the limit is 1,000,000"),
    ("E0109", wrap("rule " + "r" * 101 + " { on x award 1 once }"), 3, "longer than 100"),
    (
        "E0110",
        wrap(
            "rule vip { on x where member in ["
            + ", ".join(f'"m{i}"' for i in range(30_000))
            + "] award 1 once }"
        ),
        3,
        "more than 50,000",
    ),
    (
        "E0214",
        wrap("rule a { on x award 1 once budget 5 per day budget 9 per day }"),
        3,
        "two budgets per day",
    ),
    (
        "E0214",
        wrap("redeem gifts { on redeem amount points minimum 500 maximum 100 }"),
        3,
        "minimum (500) above its maximum (100)",
    ),
    (
        "E0214",
        wrap("grants g { on grant allowance 10 per day allowance 20 per day }"),
        3,
        "two allowances for every granter",
    ),
    (
        "E0231",
        wrap("rule f { on hw top 3 per day by max likes award likes / 10 }"),
        3,
        "cannot read the event attribute `likes`",
    ),
    ("E0232", wrap("rule f { on hw top 2 per day by max likes award 10, 5, 3 }"), 3, "3 amounts"),
    (
        "E0233",
        wrap("rule b { on hw top 1 grup per day by active award 5 }", "team class, group"),
        3,
        "did you mean `group`?",
    ),
    (
        "E0234",
        wrap("rule b { on hw top 3 per day by rate award 5 }", "team class"),
        3,
        "say which kind of team",
    ),
    ("E0235", wrap("board classes { on hw }", "team class"), 3, "does not say how to rank"),
    ("E0236", wrap('rule w { on join perk "welcome pack" once }'), 3, "a perk is awarded by"),
    ("E0260", wrap("rule h { on answer award 5 every time }"), 3, "has no perk"),
    (
        "E0260",
        wrap('rule h { on answer milestone count at 3 badge "x" badge "y" every time }'),
        3,
        "a plain per-event rule",
    ),
    (
        "E0261",
        wrap("rule w { on hw window 3 within 7 days streak per day at 3 award 5 }"),
        3,
        "a `window` rule",
    ),
    (
        "E0262",
        wrap("rule s { on hw reaching 3 milestone count at 5 award 10 }"),
        3,
        "belongs to a `streak` rule",
    ),
    (
        "E0262",
        wrap("rule s { on hw streak per week reaching 100 earned at 2 award 10 }"),
        3,
        "a streak of points earned counts what the scheme pays the member",
    ),
    (
        "E0207",
        wrap("rule s { streak per week reaching 100 coin earned at 2 award 10 }", "currency coins"),
        3,
        "did you mean `coins`?",
    ),
    (
        "E0263",
        wrap("rule q { on hw first 3 per week window 2 within 7 days award 10 }"),
        3,
        "a `first` rule",
    ),
    ("E0264", wrap("rule o { on m award 5 }", "timezone from tz"), 2, "no condition reads them"),
    (
        "E0264",
        wrap(
            "rule o { on m where hour > 20 award 5 }",
            "timezone from tz\n  events { m(tz: number) }",
        ),
        3,
        "reads zone names",
    ),
    ("E0237", wrap("redeem gifts { on redeem minimum 100 }"), 3, "which attribute holds"),
    ("E0238", wrap("grants applause { on grant }"), 3, "gives nobody an allowance"),
    ("E0239", wrap("levels { newcomer 0 core 500 regular 100 }"), 3, "is not above `core`"),
    ("E0240", wrap("rule idle { on message inactive 14 days award -10 }"), 3, "pays no points"),
    (
        "E0240",
        wrap(
            "rule r { on checkin inviter from invite.invitee within 7 days "
            "streak per day at 3 award 5 }"
        ),
        3,
        "not a rank, streak or milestone",
    ),
    (
        "E0241",
        wrap("rule lucky { on checkin where random(1, 10) > 8 award 20 limit 1 per day }"),
        3,
        "a condition cannot use it",
    ),
    (
        "E0242",
        wrap('rule idle { on checkin inactive 99999999 days flag "idle" }'),
        3,
        "longer than the engine counts",
    ),
    (
        "E0243",
        wrap("rule buy { on order award 1 once }\nreverse refunds { on refund by order }"),
        4,
        "how long an event stays reversible",
    ),
    (
        "E0244",
        wrap('rule idle { on message inactive 14 days flag "idle" pending 7 days }'),
        3,
        "pays no points to hold",
    ),
    (
        "E0245",
        wrap("transfer tips { on tip amount points }"),
        3,
        "which attribute names the receiver",
    ),
    (
        "E0246",
        wrap("catalogue shop { on redeem item gift gift mug { stock 50 } }"),
        3,
        "has no price",
    ),
    (
        "E0247",
        wrap("rule best { on answer top 3 per week by count award 10 reason note }"),
        3,
        "has a `reason` but no per-event award",
    ),
    (
        "E0248",
        wrap("board b { per month by points each week }"),
        3,
        "cannot be posted each week",
    ),
    (
        "E0249",
        wrap('board b { per day by points post "x" line "{rank} {who}" }'),
        3,
        "`{who}` is not a placeholder here",
    ),
    (
        "E0250",
        wrap("rule mod { on answer pay moderator per week by active award active * words }"),
        3,
        "its amount reads the measure `active`, not `words`",
    ),
    (
        "E0250",
        wrap("rule mod { on answer pay moderator per week by earliest award 5 }"),
        3,
        "cannot be measured `by earliest`",
    ),
    (
        "E0250",
        wrap('rule fund { on fee pay "fund" per season by sum amount so far award sum }'),
        3,
        "`so far` measures from the first event on",
    ),
    (
        "E0251",
        wrap("rule g { on hw goal class per week by max words at 5 award 1 }", "team class"),
        3,
        "not `by max`",
    ),
    (
        "E0251",
        wrap("rule g { on hw goal class per week by count award 5 at 9 award 1 }", "team class"),
        3,
        "it takes no `award`",
    ),
    (
        "E0251",
        wrap(
            "rule g { on hw goal class per week by count limit 1 per day at 5 award 1 }",
            "team class",
        ),
        3,
        "it takes no `limit`",
    ),
    (
        "E0251",
        wrap("rule g { on hw goal class per week by count }", "team class"),
        3,
        "does not say what its goal pays",
    ),
    (
        "E0251",
        wrap("rule g { on hw goal class per week by count at 5 award words }", "team class"),
        3,
        "its award is a number",
    ),
    (
        "E0251",
        wrap("rule g { on hw draw 2 award 1 once }"),
        3,
        "`draw` belongs to a team goal",
    ),
    (
        "E0233",
        wrap("rule g { on hw goal clas per week by count at 5 award 1 }", "team class"),
        3,
        "did you mean `class`?",
    ),
    (
        "E0213",
        wrap("rule g { on hw goal class per week by count draw 0 at 5 award 1 }", "team class"),
        3,
        "a draw must be at least 1",
    ),
    (
        "E0266",
        wrap("board t { league weekly per week by count }", LEAGUE),
        3,
        "it takes no `on`, `where`, ranking or `each`",
    ),
    (
        "E0266",
        wrap("board t { league weekley }", LEAGUE),
        3,
        "did you mean `weekly`?",
    ),
    (
        "E0249",
        wrap('board t { league weekly post "h" line "{rank} {team}" }', LEAGUE),
        3,
        "the post's line cannot be written",
    ),
    (
        "E0265",
        wrap("rule w { on hw periods from first signup top 1 per week by count award 5 }"),
        3,
        "belong to a rule that counts one member's own events",
    ),
    (
        "E0265",
        wrap("rule w { on hw periods from first signup first 3 per week award 5 }"),
        3,
        "compare members in the same calendar period",
    ),
    (
        "E0265",
        wrap("rule w { on vote periods from joined award 1 limit 1 per week credit who }"),
        3,
        "count for another member",
    ),
    (
        "E0265",
        wrap("rule w { on hw periods from first signup award 5 limit 1 per day }"),
        3,
        "`periods from` changes nothing",
    ),
    (
        "E0265",
        wrap("rule w { on hw periods from class award 5 limit 1 per week }", "team class"),
        3,
        "`class` is not a date: a rule's periods count from a date column",
    ),
    (
        "E0216",
        wrap(
            "rule w { on hw periods from first sigup award 5 limit 1 per week }",
            "events { hw signup }",
        ),
        3,
        "did you mean `signup`?",
    ),
    (
        "E0212",
        wrap("rule w { on hw periods from joined periods from first hw award 5 limit 1 per week }"),
        3,
        "more than one `periods from` clause",
    ),
    (
        "E0252",
        wrap("rule w { on hw within 3 days of first signup top 1 per day by count award 5 }"),
        3,
        "belongs to a rule that pays a member for their events",
    ),
    (
        "E0252",
        wrap("rule w { on hw within 3 days of class award 5 once }", "team class"),
        3,
        "`class` is not a date",
    ),
    (
        "E0216",
        wrap("rule w { on hw within 3 days of first sigup award 5 once }", "events { hw signup }"),
        3,
        "did you mean `signup`?",
    ),
    (
        "E0212",
        wrap("rule w { on hw within 3 days of joined within 2 days of first hw award 5 once }"),
        3,
        "more than one `within` clause",
    ),
    (
        "E0253",
        wrap("league lg { on lesson per week by earliest cohort 10 tiers a, b promote 2 }"),
        3,
        "a league ranks its members by what their events add up to",
    ),
    (
        "E0253",
        wrap("league lg { on lesson per week by count tiers a, b promote 2 }"),
        3,
        "does not say `cohort`",
    ),
    (
        "E0253",
        wrap("league lg { on lesson per week by count cohort 1 tiers a, b promote 2 }"),
        3,
        "a cohort of 1 moves nobody",
    ),
    (
        "E0253",
        wrap("league lg { on lesson per week by count cohort 5 tiers a, a promote 2 }"),
        3,
        "two or more different names",
    ),
    (
        "E0253",
        wrap("league lg { on lesson per week by count cohort 5 tiers a, b }"),
        3,
        "moves nobody: say `promote N`",
    ),
    (
        "E0209",
        wrap(
            "league class { on lesson per week by count cohort 5 tiers a, b promote 1 }",
            "team class",
        ),
        3,
        "already an attribute of every event",
    ),
    (
        "E0219",
        wrap(
            "league lg { on lesson per week by sum xp cohort 10 tiers a, b promote 2 }\n"
            "rule r { on lesson where lg > 3 award 1 once }"
        ),
        4,
        "lg",
    ),
    (
        "E0205",
        wrap("rule ad { on ad where weekday is satruday award 5 once }"),
        3,
        "did you mean `saturday`?",
    ),
    (
        "E0299",
        wrap("rule checkin { on checkin award 5 once }\n" * 250),
        204,  # the 201st copy: the first error not shown
        "only the first 200 errors are shown",
    ),
    (
        "W0306",
        wrap("group chat { cap 20 per day }\nrule a { on x award 1 group chat uncapped }"),
        4,
        "has no effect",
    ),
    ("W0307", wrap("rule a { on hw where p == q award 1 once }"), 3, "always false"),
    (
        "W0308",
        wrap("rule a { on hw where chars >= 2000 and chars < 500 award 20 once }"),
        3,
        "can never fire",
    ),
    (
        "W0309",
        wrap("rule a { on x award 5 limit 1 per day }\nrule b { on x award 5 limit 1 per day }"),
        4,
        "both pay for every `x`",
    ),
    (
        "W0310",
        wrap("rule a { on hw award 5 limit 1 per day cap 20 per day }"),
        3,
        "its rules pay at most 5 per day",
    ),
    (
        "W0311",
        wrap("rule a { on post award 100 / (likes - 1) limit 1 per day }"),
        3,
        "divides by `likes - 1`, which can be 0",
    ),
]


@pytest.mark.parametrize(
    "code,text,line,fragment", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_diagnostic(code: str, text: str, line: int, fragment: str) -> None:
    found = [d for d in diagnostics(text) if d.code == code]
    assert found, f"expected {code}, got {[(d.code, d.message) for d in diagnostics(text)]}"
    diagnostic = found[0]
    # The code's letter is its severity: an error downgraded to a warning would let a
    # broken scheme load (and a warning made an error would refuse a good one).
    severity = {"E": "error", "W": "warning"}[code[0]]
    assert (diagnostic.severity.value, diagnostic.is_error) == (severity, code[0] == "E")
    assert diagnostic.span.line == line
    assert f"{severity}[{code}]" in diagnostic.render(text)
    rendered = diagnostic.render(text)
    assert fragment in rendered
    assert rendered.startswith(f"t.incentive:{line}:")


def test_every_documented_code_has_a_case_that_checks_its_severity() -> None:
    """errors.md lists every code; each parser and checker code has a case above
    (the roster's E04xx are checked below: they are not the checker's)."""
    documented = re.findall(r"^### ([EW]\d{4}) ", ERRORS_MD.read_text(encoding="utf-8"), re.M)
    assert len(documented) > 40
    covered = {case[0] for case in CASES}
    covered.add("E0113")  # fmt's when converting, not the checker's: see test_e0113 below
    assert [c for c in documented if c not in covered and not c.startswith("E04")] == []


def test_e0113_a_scheme_that_cannot_be_converted_is_an_error() -> None:
    text = '方案 "t" {\n  规则 a { 当 x 奖励 1 where }\n}\n'
    with pytest.raises(SchemeError) as caught:
        incentive.fmt(text, "t.incentive", lang="en")
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.severity.value, diagnostic.is_error) == (
        "E0113",
        "error",
        True,
    )
    assert "rename `where`" in diagnostic.hints[0]


def test_a_roster_that_cannot_be_used_is_an_error() -> None:
    with pytest.raises(incentive.InputError) as caught:
        incentive.read_roster(io.StringIO("member,class\nana,red\nana,blue\n"), "r.csv", "csv")
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.severity.value) == ("E0401", "error")
    assert diagnostic.render() == "r.csv:3:1: error[E0401]: member `ana` is listed twice"


def test_checker_reports_every_error_at_once() -> None:
    text = wrap(
        "rule a { on x award 1 coin once }\nrule b { on y award 1 group nope }\n"
        "rule a { on z award 1 once }",
        'timezone "Mars/Olympus"',
    )
    codes = sorted(d.code for d in diagnostics(text) if d.is_error)
    assert codes == ["E0201", "E0203", "E0207", "E0208"]


def test_rendered_error_has_file_line_caret_and_help() -> None:
    text = 'scheme "t" {\n  rule a { on checkin awrd 5 }\n}\n'
    with pytest.raises(SchemeError) as caught:
        incentive.compile(text, "camp.incentive")
    assert caught.value.render() == (
        "camp.incentive:2:23: error[E0101]: unexpected `awrd`: expected `}` or a rule "
        "clause (`on`, `where`, `award`, `limit`, `cap`, ...)\n"
        "   2 |   rule a { on checkin awrd 5 }\n"
        "                             ^^^^\n"
        "  = help: did you mean `award`?"
    )


def test_clean_scheme_has_no_diagnostics() -> None:
    text = wrap("rule a { on checkin award 5 limit 1 per day }")
    assert diagnostics(text) == []


def test_uncapped_silences_the_unbounded_warning() -> None:
    assert diagnostics(wrap("rule chat { on message award 1 uncapped }")) == []


def test_inferred_attribute_types_reach_the_program() -> None:
    program = incentive.compile(
        wrap(
            'rule a { on hw where words >= 500 and kind in ["essay", "poem"] and not late '
            "award likes * 0.5 once }"
        )
    )
    assert program.attribute_types["hw"] == {
        "kind": "text",
        "late": "bool",
        "likes": "number",
        "words": "number",
    }


def codes(text: str) -> list[str]:
    return [d.code for d in diagnostics(text)]


@pytest.mark.parametrize(
    "clauses",
    [
        "limit 2 per day limit 2 per day",
        "limit 2 per day limit 5 per day",
        "once limit 1 ever",
        "limit 3 ever once",
    ],
)
def test_two_limits_for_one_period_are_an_error(clauses: str) -> None:
    """Two limits for one period share one counter, so each award counts twice."""
    text = wrap(
        "rule x {\n on a\n award 1\n "
        + clauses.replace(" limit", "\n limit").replace(" once", "\n once")
        + "\n}"
    )
    found = [d for d in diagnostics(text) if d.is_error]
    assert [d.code for d in found] == ["E0214"], found
    label = "ever" if "ever" in clauses or "once" in clauses else "per day"
    assert found[0].message == f"rule `x` has two limits {label}"
    assert found[0].span.line == 7  # the second limit
    assert "twice" in found[0].hints[0]


def test_a_repeated_once_is_reported_once() -> None:
    assert codes(wrap("rule x { on a award 1 once once }")) == ["E0212"]


def test_comparing_two_untyped_attributes_warns() -> None:
    """Only typed attributes reach the evaluator: `p == q` reads two missing values."""
    text = wrap("rule a { on hw where p == q award 1 once }")
    [warning] = diagnostics(text)
    assert warning.code == "W0307"
    assert warning.message == (
        "`p == q` is always false: the types of `p` and `q` are unknown, "
        "so the rule never reads them"
    )
    assert (warning.span.line, warning.span.column) == (3, 22)
    assert "`events { hw(p: text, q: text) }`" in warning.hints[0]
    program = incentive.compile(text)
    assert "hw" not in program.attribute_types  # what the warning is about


def test_untyped_membership_warns() -> None:
    assert codes(wrap("rule a { on hw where p not in [q, r] award 1 once }")) == ["W0307"]


@pytest.mark.parametrize(
    "header,other",
    [
        ("events { hw(p: text, q: text) }", ""),
        ("", 'rule b { on hw where p == "x" award 1 once }'),  # a later rule fixes `p`
        ("", "rule b { on hw where q > 1 award 1 once }"),
    ],
)
def test_inferable_comparison_does_not_warn(header: str, other: str) -> None:
    text = wrap("rule a { on hw where p == q award 1 once }\n" + other, header)
    assert codes(text) == []
    assert set(incentive.compile(text).attribute_types["hw"]) == {"p", "q"}


def test_a_later_rule_that_types_both_sides_differently_is_an_error() -> None:
    text = wrap(
        "rule a { on hw where p == q award 1 once }\n"
        'rule b { on hw where p > 1 and q == "x" award 1 once }'
    )
    found = diagnostics(text)
    assert [(d.code, d.span.line) for d in found] == [("E0219", 3)]


@pytest.mark.parametrize(
    "amount",
    ["-30", "-(30)", "0", "2 - 5", "-30 * 2", "-5 / 2 round up", "min(-1, words)",
     "max(-1, -2)", "words * 0", "min(-10, words) * 3"],
)  # fmt: skip
def test_a_penalty_is_not_warned_about(amount: str) -> None:
    """An amount that is never positive cannot run away: no W0301 (`-30` is Negate(30))."""
    text = wrap(
        f"rule fine {{ on ad award {amount} }}", "events { ad(words: number, likes: number) }"
    )
    assert codes(text) == []


@pytest.mark.parametrize(
    "amount", ["30", "words", "-words", "-30 * words", "max(-1, words)", "2 - words"]
)
def test_an_amount_that_may_be_positive_is_warned_about(amount: str) -> None:
    """An attribute may be negative, so `-words` may pay."""
    text = wrap(f"rule r {{ on ad award {amount} }}", "events { ad(words: number) }")
    assert codes(text) == ["W0301"]


@pytest.mark.parametrize(
    "short,long,warned",
    [
        ("day", "week", True),
        ("day", "month", True),
        ("day", "season", True),
        ("week", "season", True),
        ("month", "season", True),
        ("week", "month", False),  # a week may straddle two months: 9 a week can bind
        ("month", "week", False),
    ],
)
def test_never_binds_only_for_nested_periods(short: str, long: str, warned: bool) -> None:
    season = "season 2026-03-01 to 2026-05-31"
    for clause in ("limit", "cap"):
        text = wrap(
            f"rule a {{ on x award 1 {clause} 9 per {short} {clause} 5 per {long} }}", season
        )
        assert codes(text) == (["W0302"] if warned else []), (clause, short, long)


def test_never_binds_under_a_limit_ever() -> None:
    assert codes(wrap("rule a { on x award 1 limit 9 per week limit 5 ever }")) == ["W0302"]


@pytest.mark.parametrize(
    "clauses,message",
    [
        ("group chat", "rule `a` is in group `chat`, which has `cap 20 per day`"),
        ("cap 5 per week", "rule `a` has `cap 5 per week`"),
    ],
)
def test_uncapped_on_a_capped_rule_reads_well(clauses: str, message: str) -> None:
    text = wrap(f"group chat {{ cap 20 per day }}\nrule a {{ on x award 1 {clauses} uncapped }}")
    found = [d for d in diagnostics(text) if d.code == "W0306"]
    assert [d.message for d in found] == [f"`uncapped` has no effect: {message}"]
    assert found[0].message.count("`") % 2 == 0 and "``" not in found[0].message


@pytest.mark.parametrize(
    "clauses,hint",
    [
        ("award 1 award 2 once", "add them up (`award 5 + 3`), or write a second rule"),
        ("award 1 once once", "one `once` already pays at most once ever"),
        ("award 1 uncapped uncapped", "one `uncapped` is enough"),
        ("streak per day streak per week at 3 award 1", "one rule per period"),
        ("streak per day grace 1 grace 2 at 3 award 1", "keep one: `grace 2`"),
        ("streak per day every 3 award 1 every 5 award 2", "keep one `every`"),
        ("milestone count milestone sum w at 3 award 1", "one rule per measure"),
    ],
)
def test_repeated_clause_has_a_fitting_hint(clauses: str, hint: str) -> None:
    found = [d for d in diagnostics(wrap(f"rule a {{ on x {clauses} }}")) if d.code == "E0212"]
    assert len(found) == 1
    assert hint in found[0].hints[0]
    assert "`on a, b`" not in found[0].hints[0]


def test_a_misspelt_group_is_not_also_a_group_without_rules() -> None:
    text = wrap("group chat { cap 20 per day }\nrule a { on x award 1 group caht }")
    assert codes(text) == ["E0208"]
    # A group that nothing names, not even misspelt, is still warned about.
    text = wrap("group chat { cap 20 per day }\nrule a { on x award 1 group zzz }")
    assert sorted(codes(text)) == ["E0208", "W0303"]


@pytest.mark.parametrize("kind", ["streak per day", "milestone count"])
def test_a_streak_with_a_plain_award_gets_one_error(kind: str) -> None:
    found = [d for d in diagnostics(wrap(f"rule s {{ on hw {kind} award 5 }}")) if d.is_error]
    assert [d.code for d in found] == ["E0228"]
    assert found[0].hints == ("write `at 7 award 5`",)


def test_grace_0_means_no_grace() -> None:
    text = wrap("rule s { on hw streak per day grace 0 at 3 award 1 }")
    assert diagnostics(text) == []
    streak = incentive.compile(text).rules[0].streak
    assert streak is not None and streak.grace == 0


@pytest.mark.parametrize(
    "text,code",
    [
        (
            wrap(
                "rule a { on hw where x > 1 award 1 once }\n"
                'rule b { on hw2 where x == "a" award 1 once }\n'
                "rule c { on hw, hw2 where x == 5 award 1 once }"
            ),
            "E0219",
        ),
        (
            wrap("rule c { on hw where wrods == 5 award 1 once }", "events { hw(words: number) }"),
            "E0217",
        ),
        (wrap("rule c { on hw where mni(1, 2) == 5 award 1 once }"), "E0222"),
        (
            wrap(
                "rule a { on hw where x > 1 award 1 once }\n"
                'rule b { on hw2 where x == "a" award 1 once }\n'
                "rule c { on hw, hw2 where x > 5 and x < 9 award x once }"
            ),
            "E0219",
        ),
    ],
    ids=["mixed types", "unknown attribute", "unknown function", "mixed types used 3 times"],
)
def test_a_problem_on_the_left_of_a_comparison_is_reported_once(text: str, code: str) -> None:
    assert codes(text) == [code]


@pytest.mark.parametrize(
    "clauses,what,hint",
    [
        ("award 1 limit 1.5 per day", "a limit", "`limit 1` or `limit 2`"),
        ("award 1 cap 2.5 per day", "a cap", "`cap 2` or `cap 3`"),
        ("award 1 limit 10.25 ever", "a limit", "`limit 10` or `limit 11`"),
        ("streak per day at 1.5 award 2", "a streak length or threshold", "`at 1` or `at 2`"),
        ("top 0.5 per day by earliest award 1", "a rank's N", "`top 1`"),
    ],
)
def test_a_fraction_where_a_count_goes_says_whole_number(
    clauses: str, what: str, hint: str
) -> None:
    text = wrap(f"rule a {{ on x {clauses} }}")
    [error] = diagnostics(text)
    written = next(w for w in clauses.split() if "." in w)
    assert (error.code, error.message) == (
        "E0101",
        f"unexpected `{written}`: {what} needs a whole number",
    )
    assert error.hints == (f"write {hint}",)
    line = text.split("\n")[2]
    assert line[error.span.column - 1 : error.span.end_column - 1] == written


# ---- a code's letter is its severity ---------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "code"),
    [("error", "W0301"), ("warning", "E0214"), ("error", "E214"), ("warning", "w0301"),
     ("error", "E02145"), ("error", ""), ("warning", "W030x")],
)  # fmt: skip
def test_a_code_reported_at_the_wrong_severity_is_a_programming_error(
    report: str, code: str
) -> None:
    """The audit turned E0214 into a warning at sites no case reached, and no test
    failed: now an E code can only be an error and a W code only a warning."""
    from incentive.diagnostics import DiagnosticBag, MisfiledCode, Span

    bag = DiagnosticBag("t.incentive")
    with pytest.raises(MisfiledCode, match=re.escape(repr(code))):
        getattr(bag, report)(code, "a message", Span(1, 1, 1, 2))
    assert bag.items == []


def test_codes_of_the_right_letter_pass() -> None:
    from incentive.diagnostics import DiagnosticBag, Span

    bag = DiagnosticBag("t.incentive")
    bag.error("E0214", "two caps", Span(1, 1, 1, 2))
    bag.warning("W0301", "no limit", Span(2, 1, 2, 2))
    assert [(d.code, d.is_error) for d in bag.sorted()] == [("E0214", True), ("W0301", False)]


def test_every_code_written_in_the_source_has_its_severitys_letter() -> None:
    """Every code written in the package, whether a case reaches it or not, is given
    where its severity's letter belongs: an `error` (or the parser's and the roster's
    errors) takes an E code, a `warning` a W code, a `Diagnostic(code, severity)` the
    letter of its severity. With the check in `Diagnostic`, a site that no test runs
    cannot downgrade an error unseen either."""
    import ast

    package = Path(__file__).resolve().parent.parent / "incentive"
    found: list[tuple[str, int, str, str]] = []  # file, line, code, the letter it must have
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if not re.fullmatch(r"[A-Za-z]\d{4}", node.value):
                continue
            call = parents[node]
            wanted = "E"  # the parser's codes, the roster's, the checker's helpers: errors
            if isinstance(call, ast.Call):
                name = ast.unparse(call.func).rsplit(".", 1)[-1]
                if "warning" in name:
                    wanted = "W"
                elif name == "Diagnostic":
                    wanted = "W" if "WARNING" in ast.unparse(call.args[1]) else "E"
            found.append((path.name, node.lineno, node.value, wanted))
    wrong = [f"{file}:{line}: {code}" for file, line, code, wanted in found if code[0] != wanted]
    assert wrong == []
    assert len(found) > 150
    assert sum(code.startswith("W") for _, _, code, _ in found) >= 8
