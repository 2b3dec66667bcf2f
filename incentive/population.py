"""Synthetic activity for dry runs: a population described in YAML, seeded.

    seed: 21
    start: 2026-03-02
    days: 21
    members: 500
    teams:                           # optional: a roster is generated too
      class: {count: 8}              # class-1 .. class-8, members dealt in turn
      group: {count: 4, within: class}   # class-1-a .. class-8-d
    engagement: {spread: [4, 1.6], decay: 0.008, churn: 0.005, joiners: 0}
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

The same description and seed give the same events, byte for byte.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from incentive.diagnostics import Diagnostic, InputError, Severity, Span, did_you_mean
from incentive.events import load_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamSpec(_Strict):
    count: int = Field(gt=0, le=10_000)
    within: str | None = None  # deal each team of `within` into `count` of these


class Engagement(_Strict):
    spread: tuple[float, float] = (4.0, 1.6)  # beta(a, b)
    decay: float = Field(0.0, ge=0, le=1)
    churn: float = Field(0.0, ge=0, le=1)
    joiners: int = Field(0, ge=0, le=100_000)


class Moment(_Strict):
    at: str = "12:00"
    spread: float = Field(60, ge=0, le=24 * 60)  # minutes (a normal's standard deviation)
    weight: float = Field(1.0, gt=0)

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str) -> str:
        time.fromisoformat(value)
        return value


GENERATORS = ("value", "choice", "chance", "normal", "exponential", "uniform")
NUMBER_OPTIONS = ("min", "max", "round")


class Activity(_Strict):
    daily: float = Field(ge=0, le=1)
    per_day: tuple[int, int] = (1, 1)
    times: list[Moment] = [Moment()]
    attributes: dict[str, dict[str, Any]] = {}

    @field_validator("attributes")
    @classmethod
    def _generators(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, spec in value.items():
            chosen = [key for key in spec if key in GENERATORS]
            other = sorted(set(spec) - set(GENERATORS) - set(NUMBER_OPTIONS))
            if len(chosen) != 1 or other:
                raise ValueError(
                    f"attribute `{name}` needs exactly one of {', '.join(GENERATORS)}"
                    + (f" (unknown: {other[0]})" if other else "")
                )
        return value


class Population(_Strict):
    seed: int = 0
    start: date
    days: int = Field(gt=0, le=3660)
    members: int = Field(gt=0, le=1_000_000)
    prefix: str = "m"
    teams: dict[str, TeamSpec] = {}
    engagement: Engagement = Engagement()
    activities: dict[str, Activity]


def load_population(text: str, source: str) -> Population:
    """A population description; InputError says what is wrong and where."""

    def fail(message: str) -> InputError:
        return InputError([Diagnostic("E0403", Severity.ERROR, message, Span(0, 0, 0, 0), source)])

    try:
        data = load_yaml(text, source)
    except Exception as err:  # yaml.YAMLError or a size limit: say it plainly
        raise fail(f"not valid YAML: {getattr(err, 'problem', None) or err}") from None
    try:
        return Population.model_validate(data)
    except ValidationError as err:
        errors = sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"]) or "the description"
        if first["type"] == "extra_forbidden":
            known = _fields_at(first["loc"][:-1])
            near = did_you_mean(str(first["loc"][-1]), known)
            raise fail(
                f"unknown key `{where}`" + (f" (did you mean `{near}`?)" if near else "")
            ) from None
        raise fail(f"`{where}`: {first['msg']}") from None


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


def _team_names(population: Population) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for kind, spec in population.teams.items():
        if spec.within is None:
            names[kind] = [f"{kind}-{n}" for n in range(1, spec.count + 1)]
        else:
            letters = [string.ascii_lowercase[i % 26] * (1 + i // 26) for i in range(spec.count)]
            names[kind] = [f"{outer}-{x}" for outer in names[spec.within] for x in letters]
    return names


def simulate(population: Population) -> Simulated:
    """The events a population produces, in time order (local times, no offset)."""
    rng = random.Random(population.seed)
    names = _team_names(population)
    width = len(str(population.members + population.engagement.joiners * population.days))
    roster: list[dict[str, str]] = []

    def join(number: int) -> tuple[str, float]:
        member = f"{population.prefix}{number:0{width}d}"
        row = {"member": member}
        for kind, spec in population.teams.items():
            if spec.within is None:
                row[kind] = names[kind][(number - 1) % len(names[kind])]
            else:
                outer = row[spec.within]
                inner = [t for t in names[kind] if t.startswith(outer + "-")]
                row[kind] = inner[((number - 1) // len(names[spec.within])) % len(inner)]
        roster.append(row)
        a, b = population.engagement.spread
        return member, rng.betavariate(a, b)

    members = [(*join(n), 0) for n in range(1, population.members + 1)]
    next_number = population.members + 1
    events: list[tuple[datetime, int, dict[str, Any]]] = []
    for index in range(population.days):
        day = population.start + timedelta(days=index)
        for _ in range(population.engagement.joiners):
            members.append((*join(next_number), index))
            next_number += 1
        still: list[tuple[str, float, int]] = []
        for member, engagement, joined in members:
            if rng.random() < population.engagement.churn:
                continue  # gone for good
            still.append((member, engagement, joined))
            fade = max(0.0, 1 - population.engagement.decay * (index - joined))
            for kind, activity in population.activities.items():
                if rng.random() >= activity.daily * engagement * fade:
                    continue
                low, high = activity.per_day
                for _ in range(rng.randint(low, max(low, high))):
                    when = _moment(rng, day, activity.times)
                    event = {"type": kind, "member": member, "at": when.isoformat()}
                    for name, spec in activity.attributes.items():
                        event[name] = _draw(rng, spec)
                    events.append((when, len(events), event))
        members = still
    events.sort(key=lambda e: (e[0], e[1]))
    return Simulated([e for _, _, e in events], roster)


def _moment(rng: random.Random, day: date, times: list[Moment]) -> datetime:
    moment = rng.choices(times, weights=[t.weight for t in times])[0]
    clock = time.fromisoformat(moment.at)
    minutes = clock.hour * 60 + clock.minute + rng.gauss(0, moment.spread)
    minutes = min(max(minutes, 0), 24 * 60 - 1 / 60)  # stay inside the day
    return datetime.combine(day, time(0)) + timedelta(seconds=int(minutes * 60))


def _draw(rng: random.Random, spec: dict[str, Any]) -> Any:
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
    return round(number, places) if places else round(number)
