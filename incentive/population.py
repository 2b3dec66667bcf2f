"""Synthetic activity for dry runs: a population described in YAML, seeded.

    seed: 21
    start: 2026-03-02
    days: 21
    members: 500
    teams:                           # optional: a roster is generated too
      class: {count: 8}              # class-1 .. class-8, members dealt in turn
      group: {count: 4, within: class}   # class-1-a .. class-8-d
    engagement: {spread: [4, 1.6], decay: 0.008, churn: 0.005, joiners: 0}
    response: {streak: 0.01, reward: 0.0005, memory: 7, most: 0.3}   # optional
    activities:
      homework:
        daily: 0.8                   # chance an engaged member does it on a day
        per_day: [1, 1]              # how many times, when they do (low, high)
        times:                       # the day's rhythm: local clock, minutes of spread
          - {at: "09:00", spread: 50, weight: 0.35}
          - {at: "19:50", spread: 40, weight: 0.65}
        attributes:
          chars: {normal: [950, 320], min: 120}
          likes: {exponential: 6}

Every member gets an engagement level drawn from a beta distribution
(`spread`); the chance of each activity on a day is `daily` times the
member's engagement, fading by `decay` a day; a member stops for good with
probability `churn` a day; `joiners` new members arrive each day. Attribute
generators: `normal: [mean, sd]`, `exponential: mean`, `uniform: [low, high]`,
`choice: [a, b, ...]`, `chance: p` (true or false), `value: x`; numbers may
take `min`, `max` and `round` (decimal places, default 0).

Members can respond to the scheme being tried (`response`): each day of a
member's current run of active days adds `streak` to their engagement (they
do not want to break it), and each point the scheme paid them over the last
`memory` days adds `reward`; together at most `most`. `balance: [low, high]`
draws a share of the member's balance at the start of the day, rounded down
to a `multiple` (points used at checkout); when that is 0 the member does not
do the activity that time. Rewards and balances come from the scheme, which
runs day by day beside the population (incentive.simulation); without one,
members earn nothing and hold nothing.

The same description and seed give the same events, byte for byte.
"""

from __future__ import annotations

import random
import string
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from incentive.diagnostics import (
    Diagnostic,
    InputError,
    Severity,
    Span,
    did_you_mean,
    invalid_message,
)
from incentive.events import load_yaml
from incentive.i18n import _, current
from incentive.reasons import yaml_problem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamSpec(_Strict):
    count: int = Field(gt=0, le=10_000)
    within: str | None = None  # deal each team of `within` into `count` of these


class Engagement(_Strict):
    spread: tuple[float, float] = (4.0, 1.6)  # beta(a, b)

    @field_validator("spread")
    @classmethod
    def _beta(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(0 < v <= 1000 for v in value):
            raise ValueError(_("`spread` takes [a, b] of a beta distribution, both above 0"))
        return value

    decay: float = Field(0.0, ge=0, le=1)
    churn: float = Field(0.0, ge=0, le=1)
    joiners: int = Field(0, ge=0, le=100_000)


class Response(_Strict):
    streak: float = Field(0.0, ge=0, le=1)  # added per day of the current run of active days
    reward: float = Field(0.0, ge=0, le=1)  # added per point earned over the last `memory` days
    memory: int = Field(7, ge=1, le=366)
    most: float = Field(0.5, ge=0, le=1)  # the most streaks and rewards add together


class Moment(_Strict):
    at: str = "12:00"
    spread: float = Field(60, ge=0, le=24 * 60)  # minutes (a normal's standard deviation)
    weight: float = Field(1.0, gt=0)

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str) -> str:
        time.fromisoformat(value)
        return value


GENERATORS = ("value", "choice", "chance", "normal", "exponential", "uniform", "balance")
NUMBER_OPTIONS = ("min", "max", "round", "multiple")
DRAWN_NUMBERS = ("normal", "exponential", "uniform")  # take every number option


class Activity(_Strict):
    daily: float = Field(ge=0, le=1)
    per_day: tuple[int, int] = (1, 1)
    times: list[Moment] = Field([Moment()], min_length=1)
    attributes: dict[str, dict[str, Any]] = {}

    @field_validator("per_day")
    @classmethod
    def _how_many(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= value[0] <= value[1] <= 1000:
            raise ValueError(_("`per_day` takes [low, high] with 0 <= low <= high <= 1000"))
        return value

    @field_validator("attributes")
    @classmethod
    def _generators(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, spec in value.items():
            chosen = [key for key in spec if key in GENERATORS]
            other = sorted(set(spec) - set(GENERATORS) - set(NUMBER_OPTIONS))
            if len(chosen) != 1 or other:
                raise ValueError(
                    _("attribute `{name}` needs exactly one of {generators}").format(
                        name=name, generators=_(", ").join(GENERATORS)
                    )
                    + (_(" (unknown: {key})").format(key=other[0]) if other else "")
                )
            problem = _shape_problem(chosen[0], spec[chosen[0]]) or _options_problem(
                chosen[0], spec
            )
            if problem:
                raise ValueError(
                    _("attribute `{name}`: {problem}").format(name=name, problem=problem)
                )
        return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shape_problem(generator: str, given: Any) -> str | None:
    """What is wrong with a generator's parameters, in words (None: nothing)."""
    pair = isinstance(given, list) and len(given) == 2 and all(_is_number(v) for v in given)
    problem = None
    if generator == "normal" and not (pair and given[1] >= 0):
        problem = _("`{generator}` takes [mean, standard deviation], the deviation not below 0")
    elif generator == "uniform" and not (pair and given[0] <= given[1]):
        problem = _("`{generator}` takes [low, high]")
    elif generator == "balance" and not (pair and 0 <= given[0] <= given[1] <= 1):
        problem = _("`{generator}` takes [low, high]: shares of the balance between 0 and 1")
    elif generator == "exponential" and not (_is_number(given) and given > 0):
        problem = _("`{generator}` takes the mean, a number above 0")
    elif generator == "chance" and not (_is_number(given) and 0 <= given <= 1):
        problem = _("`{generator}` takes a probability between 0 and 1")
    elif generator == "choice" and not (isinstance(given, list) and given):
        problem = _("`{generator}` takes a list of values")
    return problem.format(generator=generator) if problem else None


def _options_problem(generator: str, spec: dict[str, Any]) -> str | None:
    """Number options fit numbers drawn at random; `balance` takes only `multiple`."""
    allowed: tuple[str, ...] = NUMBER_OPTIONS if generator in DRAWN_NUMBERS else ()
    if generator == "balance":
        allowed = ("multiple",)
    for option in NUMBER_OPTIONS:
        if option not in spec:
            continue
        value = spec[option]
        if option not in allowed:
            return _("`{option}` does not apply to `{generator}`").format(
                option=option, generator=generator
            )
        if option in ("min", "max") and not _is_number(value):
            return _("`{option}` takes a number").format(option=option)
        if option == "round" and not (isinstance(value, int) and 0 <= value <= 6):
            return _("`round` takes a number of decimal places, 0 to 6")
        if option == "multiple" and not (_is_number(value) and value >= 1):
            return _("`multiple` takes a whole number, 1 or more")
    if _is_number(spec.get("min")) and _is_number(spec.get("max")) and spec["min"] > spec["max"]:
        return _("`min` is above `max`")
    return None


class Population(_Strict):
    seed: int = 0
    start: date
    days: int = Field(gt=0, le=3660)
    members: int = Field(gt=0, le=1_000_000)
    prefix: str = "m"
    teams: dict[str, TeamSpec] = {}
    engagement: Engagement = Engagement()
    response: Response = Response()
    activities: dict[str, Activity]

    @field_validator("start")
    @classmethod
    def _not_too_late(cls, value: date) -> date:
        if value.year > 9000:
            raise ValueError(_("`start` must be a date before the year 9000"))
        return value

    @field_validator("teams")
    @classmethod
    def _nesting(cls, value: dict[str, TeamSpec]) -> dict[str, TeamSpec]:
        sizes: dict[str, int] = {}
        for kind, spec in value.items():
            if spec.within is not None and spec.within not in sizes:
                raise ValueError(
                    _(
                        "team `{kind}` is within `{within}`, which must be a team kind "
                        "listed before it"
                    ).format(kind=kind, within=spec.within)
                )
            sizes[kind] = spec.count * (sizes[spec.within] if spec.within else 1)
            if sizes[kind] > 100_000:
                raise ValueError(
                    _("team `{kind}` would make more than 100,000 teams").format(kind=kind)
                )
        return value


def population_error(message: str, source: str = "<population>") -> InputError:
    """E0403: the population description cannot be used."""
    return InputError([Diagnostic("E0403", Severity.ERROR, message, Span(0, 0, 0, 0), source)])


def load_population(text: str, source: str) -> Population:
    """A population description; InputError says what is wrong and where."""

    def fail(message: str) -> InputError:
        return population_error(message, source)

    try:
        data = load_yaml(text, source)
    except Exception as err:  # yaml.YAMLError or a size limit: say it plainly
        problem = yaml_problem(str(getattr(err, "problem", None) or err))
        raise fail(_("not valid YAML: {problem}").format(problem=problem)) from None
    try:
        return Population.model_validate(data)
    except ValidationError as err:
        errors = sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"]) or _("the description")
        if first["type"] == "extra_forbidden":
            known = _fields_at(first["loc"][:-1])
            near = did_you_mean(str(first["loc"][-1]), known)
            raise fail(
                _("unknown key `{where}`").format(where=where)
                + (_(" (did you mean `{near}`?)").format(near=near) if near else "")
            ) from None
        message = first["msg"] if current() == "en" else invalid_message(first)
        raise fail(_("`{where}`: {message}").format(where=where, message=message)) from None


def _fields_at(path: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at a path (for "did you mean")."""
    model: Any = Population
    for part in path:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        model = annotation if isinstance(annotation, type) else None
    return list(getattr(model, "model_fields", {}))


@dataclass(frozen=True)
class Simulated:
    events: list[dict[str, Any]]
    roster: list[dict[str, str]]  # member, then one column per team kind


@dataclass(frozen=True)
class DayOutcome:
    """What the scheme did with a day's events: points paid, and a member's balance after it."""

    earned: Mapping[str, int]
    balance: Callable[[str], int]


# Called with each simulated day and its events (in time order), after which the
# scheme has seen them: how members fared, for the next day's behaviour.
DayFeedback = Callable[[date, list[dict[str, Any]]], DayOutcome]
NO_OUTCOME = DayOutcome({}, lambda member: 0)


@dataclass
class _Member:
    name: str
    engagement: float
    joined: int  # the day index they joined
    run: int = 0  # days in a row with any activity, up to yesterday


def _team_names(population: Population) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for kind, spec in population.teams.items():
        if spec.within is None:
            names[kind] = [f"{kind}-{n}" for n in range(1, spec.count + 1)]
        else:
            letters = [string.ascii_lowercase[i % 26] * (1 + i // 26) for i in range(spec.count)]
            names[kind] = [f"{outer}-{x}" for outer in names[spec.within] for x in letters]
    return names


def _everyone(population: Population) -> int:
    """How many members the population ever has: joiners arrive on a fixed count."""
    return population.members + population.engagement.joiners * population.days


def _roster_row(
    population: Population, names: dict[str, list[str]], width: int, number: int
) -> dict[str, str]:
    """Member `number` and their teams: members are dealt into teams in turn."""
    row = {"member": f"{population.prefix}{number:0{width}d}"}
    for kind, spec in population.teams.items():
        if spec.within is None:
            row[kind] = names[kind][(number - 1) % len(names[kind])]
        else:
            outer = row[spec.within]
            inner = [t for t in names[kind] if t.startswith(outer + "-")]
            row[kind] = inner[((number - 1) // len(names[spec.within])) % len(inner)]
    return row


def roster_of(population: Population) -> list[dict[str, str]]:
    """Every member the population will have (joiners too), with their teams."""
    names = _team_names(population)
    width = len(str(_everyone(population)))
    return [_roster_row(population, names, width, n) for n in range(1, _everyone(population) + 1)]


def simulate(population: Population, feedback: DayFeedback | None = None) -> Simulated:
    """The events a population produces, in time order (local times, no offset).

    With `feedback`, the scheme sees each day's events before the next day is
    drawn, and members respond to what it paid them (`response`).
    """
    rng = random.Random(population.seed)
    names = _team_names(population)
    width = len(str(_everyone(population)))
    roster: list[dict[str, str]] = []
    response = population.response

    def join(number: int, day_index: int) -> _Member:
        roster.append(_roster_row(population, names, width, number))
        a, b = population.engagement.spread
        return _Member(roster[-1]["member"], rng.betavariate(a, b), day_index)

    members = [join(n, 0) for n in range(1, population.members + 1)]
    next_number = population.members + 1
    outcome = NO_OUTCOME
    recent: deque[Mapping[str, int]] = deque(maxlen=response.memory)  # points paid, by day
    events: list[dict[str, Any]] = []
    for index in range(population.days):
        day = population.start + timedelta(days=index)
        for _joiner in range(population.engagement.joiners):
            members.append(join(next_number, index))
            next_number += 1
        today: list[tuple[datetime, int, dict[str, Any]]] = []
        still: list[_Member] = []
        for member in members:
            if rng.random() < population.engagement.churn:
                continue  # gone for good
            still.append(member)
            fade = max(0.0, 1 - population.engagement.decay * (index - member.joined))
            lift = response.streak * member.run
            if response.reward:
                lift += response.reward * sum(paid.get(member.name, 0) for paid in recent)
            engagement = min(1.0, member.engagement * fade + min(lift, response.most))
            active = False
            for kind, activity in population.activities.items():
                if rng.random() >= activity.daily * engagement:
                    continue
                low, high = activity.per_day
                for _time in range(rng.randint(low, max(low, high))):
                    when = _moment(rng, day, activity.times)
                    event: dict[str, Any] = {
                        "type": kind,
                        "member": member.name,
                        "at": when.isoformat(),
                    }
                    for name, spec in activity.attributes.items():
                        held = outcome.balance(member.name) if "balance" in spec else 0
                        event[name] = _draw(rng, spec, held)
                    if any(
                        "balance" in spec and event[name] == 0
                        for name, spec in activity.attributes.items()
                    ):
                        continue  # nothing to spend: no checkout with points this time
                    today.append((when, len(today), event))
                    active = True
            member.run = member.run + 1 if active else 0
        members = still
        today.sort(key=lambda e: (e[0], e[1]))
        day_events = [e for _, _, e in today]
        events.extend(day_events)
        if feedback is not None:
            outcome = feedback(day, day_events)
            recent.append(outcome.earned)
    return Simulated(events, roster)


def _moment(rng: random.Random, day: date, times: list[Moment]) -> datetime:
    moment = rng.choices(times, weights=[t.weight for t in times])[0]
    clock = time.fromisoformat(moment.at)
    minutes = clock.hour * 60 + clock.minute + rng.gauss(0, moment.spread)
    minutes = min(max(minutes, 0), 24 * 60 - 1 / 60)  # stay inside the day
    return datetime.combine(day, time(0)) + timedelta(seconds=int(minutes * 60))


def _draw(rng: random.Random, spec: dict[str, Any], balance: int = 0) -> Any:
    if "balance" in spec:  # a share of what the member holds, in whole multiples
        low, high = spec["balance"]
        step = max(1, int(spec.get("multiple", 1)))
        return int(balance * rng.uniform(float(low), float(high))) // step * step
    if "value" in spec:
        return spec["value"]
    if "choice" in spec:
        return rng.choice(list(spec["choice"]))
    if "chance" in spec:
        return rng.random() < float(spec["chance"])
    if "normal" in spec:
        mean, sd = spec["normal"]
        number = rng.gauss(float(mean), float(sd))
    elif "exponential" in spec:
        number = rng.expovariate(1 / float(spec["exponential"]))
    elif "uniform" in spec:
        low, high = spec["uniform"]
        number = rng.uniform(float(low), float(high))
    else:
        raise ValueError(f"unknown attribute generator: {sorted(spec)}")
    if "min" in spec:
        number = max(number, float(spec["min"]))
    if "max" in spec:
        number = min(number, float(spec["max"]))
    places = int(spec.get("round", 0))
    if "multiple" in spec:  # whole steps, e.g. amounts in tens
        step = int(spec["multiple"])
        return round(number / step) * step
    return round(number, places) if places else round(number)
