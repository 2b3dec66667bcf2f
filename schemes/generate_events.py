"""Regenerate the activity streams beside the worked schemes.

    python schemes/generate_events.py

writes, byte for byte the same every time (a seeded `random.Random`, no
clock, no set iteration):

- `daily_tasks.events.jsonl`: an audio app, 60 members, April 2026 (30 days);
- `community.events.jsonl`: a WeChat community, 80 members, the four weeks of
  the March 2026 campaign, with a lively chat and an expert-talk chat;
- `writing_camp.roster.csv` and `writing_camp.events.jsonl`: the 21-day
  writing camp, 500 members in 8 classes of 4 groups, 2-22 March 2026;
- `city_race.roster.csv` and `city_race.events.jsonl`: the city groups'
  check-in race, 12 city groups, one week of April 2026;
- `redemption`, `community_fund`, `referrals`, `group_bot` and `member_day`
  `.events.jsonl`: the ledger's schemes S4, S6, S7, S8 and S9;
- `shop.events.jsonl`: 200 members of the shop's simulated launch
  (`shop.population.yaml` cut down), drawn by incentive's own simulator with
  the scheme in the loop, since members spend at checkout what it paid them.

Times are local wall-clock times in Asia/Shanghai (no offset), except where a
client sends an explicit offset. Each stream mixes a crowd of simulated
members with a few scripted members whose month is written out below, so
that tests/test_schemes.py can check their balances by hand. The streams also
hold what real logs hold: double taps (exact duplicate lines), events re-sent
with the same `id`, an id reused for an edited event, and a few broken lines.

Standard library only, except the shop's sample (which needs the simulator).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DAILY_SEED = 20260401
COMMUNITY_SEED = 20260302
CAMP_SEED = 20260321
RACE_SEED = 20260406


# ---- a log under construction -------------------------------------------------------


@dataclass
class Entry:
    """One line of the log, placed in the file by `pos` (then by insertion order)."""

    pos: datetime
    order: int
    event: dict[str, Any] | None = None  # written as JSON
    raw: str | None = None  # written as is (a broken line)


@dataclass
class Log:
    entries: list[Entry] = field(default_factory=list)

    def add(
        self,
        type_: str,
        member: str,
        at: datetime,
        attrs: dict[str, Any] | None = None,
        *,
        id_: str | None = None,
        at_text: str | None = None,
        pos: datetime | None = None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {}
        if id_ is not None:
            event["id"] = id_
        event["type"] = type_
        event["member"] = member
        event["at"] = at_text if at_text is not None else at.isoformat(timespec="seconds")
        event.update(attrs or {})
        self.entries.append(Entry(pos or at, len(self.entries), event=event))
        return event

    def again(self, event: dict[str, Any], pos: datetime) -> None:
        """The same event written once more (a double tap, a retry, a re-export)."""
        self.entries.append(Entry(pos, len(self.entries), event=dict(event)))

    def broken(self, text: str, pos: datetime) -> None:
        self.entries.append(Entry(pos, len(self.entries), raw=text))

    def sorted(self) -> list[Entry]:
        return sorted(self.entries, key=lambda e: (e.pos, e.order))

    def write(self, path: Path) -> int:
        lines = []
        for entry in self.sorted():
            if entry.raw is not None:
                lines.append(entry.raw)
            else:
                lines.append(json.dumps(entry.event, ensure_ascii=False))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
        return len(lines)


def at(day: date, clock: str) -> datetime:
    """A local time on a day: at(d, "07:15") or at(d, "23:59:50")."""
    return datetime.combine(day, time.fromisoformat(clock))


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def minutes_after(day: date, minutes: float) -> datetime:
    """A time `minutes` after local midnight, kept inside the day, to the second."""
    seconds = int(clamp(minutes, 0, 24 * 60 - 1 / 60) * 60)
    return datetime.combine(day, time(0)) + timedelta(seconds=seconds)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


# ---- S2: daily tasks in an audio app (April 2026) --------------------------------------

APRIL = days(date(2026, 4, 1), 30)

# Scripted members (their months are checked by hand in tests/test_schemes.py).
STEADY = "u520131"  # signs in every day, one first comment, a subscription binge
NEWCOMER = "u520188"  # four days, then gone
TRAVELLER = "u520199"  # signs in from the web client, which sends UTC times


def daily_tasks(rng: random.Random) -> Log:
    log = Log()
    sub_ids = iter(range(1, 10**6))

    def subscribe(member: str, when: datetime, album: str, new: bool) -> dict[str, Any]:
        return log.add(
            "subscribe",
            member,
            when,
            {"album": album, "new_album": new},
            id_=f"sub-{next(sub_ids):06d}",
        )

    # ---- the steady listener: 3,680 points (see tests/test_schemes.py)
    for day in APRIL:
        if day.day == 10:
            log.add("signin", STEADY, at(day, "23:59:50"))  # just before midnight
        elif day.day == 11:
            log.add("signin", STEADY, at(day, "00:00:05"))  # just after: a new day
            log.add("signin", STEADY, at(day, "07:20:00"))  # the usual time: refused
        else:
            when = at(day, f"07:{10 + day.day:02d}:00")
            first = log.add("signin", STEADY, when)
            if day.day == 3:
                log.again(first, when)  # a double tap: the same line twice
    log.add("comment", STEADY, at(APRIL[1], "09:00:00"), {"words": 2})  # "好听": too short
    log.add("comment", STEADY, at(APRIL[4], "21:30:00"), {"words": 18})  # the first real one
    log.add("comment", STEADY, at(APRIL[11], "21:40:00"), {"words": 40})  # once is once
    binge = APRIL[5]  # 2026-04-06: four new albums in four minutes, then a resubscribe
    for minute, album in enumerate(("alb-0311", "alb-0097", "alb-0412", "alb-0150"), start=1):
        subscribe(STEADY, at(binge, f"22:0{minute}:00"), album, True)
    subscribe(STEADY, at(binge, "22:10:00"), "alb-0042", False)
    late = subscribe(STEADY, at(APRIL[19], "12:30:00"), "alb-0203", True)
    log.again(late, at(APRIL[19], "14:05:00"))  # the app's retry queue re-sends it

    # ---- the newcomer: 720 points
    for day, clock in zip(APRIL[:4], ("20:30:00", "21:05:00", "08:12:00", "22:47:00"), strict=True):
        log.add("signin", NEWCOMER, at(day, clock))
    first_sub = subscribe(NEWCOMER, at(APRIL[0], "20:35:00"), "alb-0007", True)
    # The client retried with a fresh timestamp: same id, different content.
    retry = dict(first_sub, at=at(APRIL[0], "20:35:01").isoformat(timespec="seconds"))
    log.again(retry, at(APRIL[0], "20:35:01"))
    log.add("comment", NEWCOMER, at(APRIL[1], "21:06:00"), {"words": 3})
    # An old client build sends the word count as text.
    log.add("comment", NEWCOMER, at(APRIL[2], "08:15:00"), {"words": "很多"})
    log.add("comment", NEWCOMER, at(APRIL[2], "08:20:00"), {"words": 12})

    # ---- the traveller: 200 points; the web client writes UTC
    log.add("signin", TRAVELLER, at(APRIL[6], "08:00:00"))  # 04-07, local
    log.add(  # 04-07 23:30 UTC is 04-08 07:30 in Shanghai: a new day
        "signin",
        TRAVELLER,
        at(APRIL[7], "07:30:00"),
        at_text="2026-04-07T23:30:00Z",
    )
    log.add(  # 04-08 01:00 UTC is 04-08 09:00 in Shanghai: the same day, refused
        "signin",
        TRAVELLER,
        at(APRIL[7], "09:00:00"),
        at_text="2026-04-08T01:00:00+00:00",
    )
    missing_at = json.dumps({"type": "signin", "member": TRAVELLER}, ensure_ascii=False)
    log.broken(missing_at, at(APRIL[8], "08:00:00"))

    # ---- the crowd
    crowd = [f"u{n}" for n in rng.sample(range(100000, 520000), 57)]
    albums = [f"alb-{n:04d}" for n in range(1, 401)]
    resend_candidates: list[dict[str, Any]] = []
    for member in crowd:
        joined = 0 if rng.random() < 0.75 else rng.randint(1, 20)
        churned = 30 if rng.random() < 0.7 else rng.randint(joined + 2, 29)
        p_signin = rng.uniform(0.35, 0.95)
        slot = rng.choices(("morning", "evening", "noon"), (0.55, 0.38, 0.07))[0]
        p_comment = rng.uniform(0.02, 0.3)
        p_subscribe = rng.uniform(0.02, 0.2)
        web = rng.random() < 0.1  # some comment from the web, which sends an offset
        for day in APRIL[joined:churned]:
            if rng.random() < p_signin:
                if slot == "morning":
                    minutes = rng.gauss(7.75 * 60, 40)
                    minutes = clamp(minutes, 5.5 * 60, 10.5 * 60)
                elif slot == "evening":
                    minutes = clamp(rng.gauss(21 * 60, 70), 18 * 60, 24 * 60 - 1)
                else:
                    minutes = rng.uniform(11.5 * 60, 13.5 * 60)
                when = minutes_after(day, minutes + rng.random())
                event = log.add("signin", member, when)
                if rng.random() < 0.02:  # a double tap: the exact same line again
                    log.again(event, when)
                if rng.random() < 0.03:  # forgot they had signed in; tapped again later
                    log.add("signin", member, when + timedelta(minutes=rng.randint(30, 600)))
            if rng.random() < p_comment:
                for _ in range(rng.choices((1, 2, 3), (70, 25, 5))[0]):
                    hour = rng.choices((7.5, 12.5, 21.5), (3, 2, 5))[0]
                    when = minutes_after(day, rng.gauss(hour * 60, 45))
                    if rng.random() < 0.2:
                        words = rng.randint(1, 4)  # "好", "赞", an emoji
                    else:
                        words = int(clamp(rng.lognormvariate(3.0, 0.8), 5, 300))
                    if web:
                        text = when.isoformat(timespec="seconds") + "+08:00"
                        log.add("comment", member, when, {"words": words}, at_text=text)
                    else:
                        log.add("comment", member, when, {"words": words})
            if rng.random() < p_subscribe:
                burst = rng.choices((1, 2, 3, 4, 5, 6), (60, 20, 10, 5, 3, 2))[0]
                when = minutes_after(day, rng.gauss(21 * 60, 120))
                for _ in range(burst):
                    event = subscribe(member, when, rng.choice(albums), rng.random() < 0.88)
                    resend_candidates.append(event)
                    when += timedelta(seconds=rng.randint(15, 240))
    # The retry queue re-sends one more subscription an hour later.
    resent = rng.choice(resend_candidates)
    log.again(resent, datetime.fromisoformat(resent["at"]) + timedelta(hours=1))
    # A line cut short when the log shipper crashed.
    log.broken('{"type": "comment", "member": "u1', at(APRIL[14], "13:00:00"))
    return log


# ---- S3: an activity-first community (March 2026 campaign) ------------------------------

SEASON = days(date(2026, 3, 2), 28)  # Monday 03-02 to Sunday 03-29

NAMES = [p + c for p in "小老阿大" for c in "林周花王李陈张刘杨赵黄吴徐孙马朱胡郭何高"]
EXPERT_FAN = "老周"  # the expert chat's most eager member; fully scripted
INVITER = "阿花"  # brings friends every week; fully scripted
CHATTERBOX = "小林"  # lives in the lively chat; fully scripted
OWNER = "群主老K"  # tests the bot the day before the campaign

TOPICS = ["社群冷启动怎么做", "私域转化的第一单", "活动复盘模板", "裂变的边界"]


@dataclass(frozen=True)
class Activity:
    day: date
    start: str
    mode: str
    name: str


def activities() -> list[Activity]:
    out = []
    for week in range(4):
        monday = SEASON[7 * week]
        if week in (0, 2):
            out.append(Activity(monday, "20:00", "online", "新人破冰会"))
        out.append(Activity(monday + timedelta(days=2), "20:00", "online", "运营案例拆解"))
        out.append(Activity(monday + timedelta(days=6), "15:00", "online", "读书会"))
    out.append(Activity(date(2026, 3, 21), "14:00", "offline", "上海线下沙龙"))
    out.append(Activity(date(2026, 3, 26), "19:30", "offline", "滨江夜跑"))
    out.append(Activity(date(2026, 3, 28), "14:00", "offline", "杭州线下见面会"))
    return sorted(out, key=lambda a: (a.day, a.start))


def expert_sessions() -> list[datetime]:
    """The guest's sessions: Tuesday evenings and the Saturday Q&A (community day)."""
    out = []
    for day in SEASON:
        if day.weekday() == 1:
            out.append(at(day, "20:00"))
        elif day.weekday() == 5:
            out.append(at(day, "10:00"))
    return out


@dataclass
class Member:
    name: str
    p_signin: float
    evening: bool
    lively: float  # bursts a day in the lively chat
    expert: float  # chance to take part in a session
    eager: bool  # posts a lot when they do
    p_topic: float
    p_activity: float
    p_invite: float
    churned: int  # index of the last active day + 1


def community(rng: random.Random) -> Log:
    log = Log()
    messages: list[dict[str, Any]] = []  # ids are given in time order at the end

    def message(member: str, when: datetime, chat: str, words: int) -> dict[str, Any]:
        event = log.add("message", member, when, {"chat": chat, "words": words})
        messages.append(event)
        return event

    def join(member: str, activity: Activity, delay: int) -> None:
        when = at(activity.day, activity.start) + timedelta(minutes=delay)
        log.add("join", member, when, {"mode": activity.mode, "activity": activity.name})

    def topic(member: str, when: datetime, words: int) -> None:
        thread = TOPICS[min(3, (when.date() - SEASON[0]).days // 7)]
        log.add("topic", member, when, {"thread": thread, "words": words})

    def invite(member: str, when: datetime) -> None:
        log.add("invite", member, when, {"invitee": f"wxid_{rng.getrandbits(40):010x}"})

    plan = activities()
    by_name = {(a.day, a.name): a for a in plan}

    # ---- 老周, the expert chat's most eager member: 390 points (see tests/test_schemes.py)
    for day in SEASON:
        if day.weekday() < 5:
            log.add("signin", EXPERT_FAN, at(day, f"06:5{day.weekday()}:00"))
        elif day.weekday() == 5:
            log.add("signin", EXPERT_FAN, at(day, "09:00:00"))
    tue1, tue2, sat2 = date(2026, 3, 3), date(2026, 3, 10), date(2026, 3, 14)
    tue3 = date(2026, 3, 17)
    for i in range(4):
        message(EXPERT_FAN, at(tue1, f"20:{5 + 5 * i:02d}:00"), "expert", 25 + i)
    log.add("question", EXPERT_FAN, at(tue1, "20:40:00"), {"words": 30})
    for i in range(9):  # 9 x 2 = 18 of the day's 20
        message(EXPERT_FAN, at(tue2, f"20:{2 + 3 * i:02d}:00"), "expert", 20 + 7 * i)
    message(EXPERT_FAN, at(tue2, "20:31:00"), "expert", 4)  # "同意+1": too short to pay
    log.add("question", EXPERT_FAN, at(tue2, "20:35:00"), {"words": 45})  # 4 asked, 2 paid
    message(EXPERT_FAN, at(tue2, "20:40:00"), "expert", 60)  # the cap is full: refused
    for i in range(6):  # community day: 4 a message, so five fill the cap
        message(EXPERT_FAN, at(sat2, f"10:{10 + 4 * i:02d}:00"), "expert", 40 + i)
    for i in range(3):
        message(EXPERT_FAN, at(tue3, f"20:{15 + 10 * i:02d}:00"), "expert", 33)
    join(EXPERT_FAN, by_name[(date(2026, 3, 21), "上海线下沙龙")], 5)
    join(EXPERT_FAN, by_name[(date(2026, 3, 25), "运营案例拆解")], 2)
    for i in range(12):
        day = SEASON[2 * i + 1]
        message(EXPERT_FAN, at(day, "12:40:00"), "lively", 8)
    topic(EXPERT_FAN, at(date(2026, 3, 9), "22:10:00"), 120)
    topic(EXPERT_FAN, at(sat2, "16:00:00"), 300)
    topic(EXPERT_FAN, at(sat2, "16:05:00"), 8)  # "+1 学到了"
    invite(EXPERT_FAN, at(date(2026, 3, 12), "19:00:00"))

    # ---- 阿花 brings friends: 530 points
    for day in SEASON:
        log.add("signin", INVITER, at(day, f"21:{day.day:02d}:00"))
    invite_days = [3, 4, 5, 6, 10, 11, 12, 16, 17, 18, 24]  # four, three, three, one a week
    for n, d in enumerate(invite_days):
        invite(INVITER, at(date(2026, 3, d), f"13:{10 + n:02d}:00"))
    for key in [
        (date(2026, 3, 2), "新人破冰会"),
        (date(2026, 3, 4), "运营案例拆解"),
        (date(2026, 3, 8), "读书会"),  # the week's third online activity: refused
        (date(2026, 3, 16), "新人破冰会"),
        (date(2026, 3, 18), "运营案例拆解"),
        (date(2026, 3, 26), "滨江夜跑"),
        (date(2026, 3, 28), "杭州线下见面会"),  # the week's second offline one: refused
    ]:
        join(INVITER, by_name[key], 1)

    # ---- 小林 lives in the lively chat: every message a point, no cap
    for day in SEASON:
        if day.weekday() != 6:
            log.add("signin", CHATTERBOX, at(day, "08:30:00"))
        count = 260 if day == date(2026, 3, 13) else 12 + (day.day * 7) % 15
        when = at(day, "09:00:00")
        for _ in range(count):
            message(CHATTERBOX, when, "lively", rng.randint(1, 40))
            when += timedelta(seconds=rng.randint(20, 160))

    # ---- the crowd
    crowd: list[Member] = []
    for name in NAMES:
        if name in (EXPERT_FAN, INVITER, CHATTERBOX):
            continue
        crowd.append(
            Member(
                name=name,
                p_signin=rng.uniform(0.3, 0.95),
                evening=rng.random() < 0.45,
                lively=rng.choice((0.1, 0.2, 0.4, 0.7, 1.0)),
                expert=rng.choice((0.0, 0.0, 0.15, 0.4, 0.7)),
                eager=rng.random() < 0.2,
                p_topic=rng.choice((0.0, 0.03, 0.08, 0.15)),
                p_activity=rng.choice((0.05, 0.2, 0.4, 0.7)),
                p_invite=rng.choice((0.0, 0.0, 0.05, 0.15)),
                churned=28 if rng.random() < 0.8 else rng.randint(7, 24),
            )
        )
    sessions = expert_sessions()
    for member in crowd:
        for index, day in enumerate(SEASON[: member.churned]):
            weekend = day.weekday() >= 5
            if rng.random() < member.p_signin:
                base = 21.5 * 60 if member.evening else 7.5 * 60
                when = minutes_after(day, rng.gauss(base, 50) + rng.random())
                event = log.add("signin", member.name, when)
                if rng.random() < 0.02:
                    log.again(event, when)
            # The lively chat: bursts at lunch and in the evening.
            bursts = int(member.lively) + (rng.random() < member.lively % 1)
            for _ in range(bursts):
                hour = rng.choices((8.5, 12.5, 17.5, 21.0), (1, 3, 1, 4))[0]
                when = minutes_after(day, rng.gauss(hour * 60, 40))
                for _ in range(rng.choices((1, 2, 3, 6, 12), (35, 30, 20, 10, 5))[0]):
                    message(member.name, when, "lively", rng.randint(1, 60))
                    when += timedelta(seconds=rng.randint(8, 90))
            # A stray expert-chat message outside the sessions.
            if rng.random() < member.expert * 0.1:
                when = minutes_after(day, rng.uniform(9 * 60, 23 * 60))
                message(member.name, when, "expert", rng.randint(5, 120))
            if rng.random() < member.p_topic * (2 if weekend else 1):
                for _ in range(rng.choices((1, 2, 3), (70, 20, 10))[0]):
                    when = minutes_after(day, rng.uniform(10 * 60, 23.5 * 60))
                    short = rng.random() < 0.3
                    topic(member.name, when, rng.randint(4, 29) if short else rng.randint(30, 800))
            if rng.random() < member.p_invite / 7:
                invite(member.name, minutes_after(day, rng.uniform(9 * 60, 23 * 60)))
            if index == 0 and member.p_invite > 0.1:
                invite(member.name, minutes_after(day, rng.uniform(9 * 60, 23 * 60)))
        # Expert sessions: the eager post in runs; most say a few words.
        last_day = SEASON[member.churned - 1]
        for start in sessions:
            if start.date() > last_day or rng.random() >= member.expert:
                continue
            count = rng.randint(8, 22) if member.eager else rng.randint(1, 6)
            when = start + timedelta(minutes=rng.uniform(0, 20))
            for _ in range(count):
                words = rng.randint(2, 9) if rng.random() < 0.25 else rng.randint(10, 220)
                message(member.name, when, "expert", words)
                if rng.random() < 0.12:
                    when += timedelta(seconds=rng.randint(20, 90))
                    log.add("question", member.name, when, {"words": rng.randint(10, 80)})
                when += timedelta(seconds=rng.randint(30, 300))
        for activity in plan:
            if activity.day > last_day:
                continue
            chance = member.p_activity * (0.5 if activity.mode == "offline" else 1)
            if rng.random() < chance:
                join(member.name, activity, rng.randint(-5, 20))

    # ---- what real logs hold besides
    before, after = date(2026, 3, 1), date(2026, 3, 30)
    log.add("signin", OWNER, at(before, "22:00:00"))  # the owner tries the bot: before the season
    message(OWNER, at(before, "22:01:00"), "lively", 6)
    message(OWNER, at(before, "22:02:00"), "expert", 12)
    night_owls = rng.sample([m.name for m in crowd if m.lively >= 0.7], 2)
    message(night_owls[0], at(after, "00:03:10"), "lively", 9)  # after the season
    message(night_owls[1], at(after, "00:04:45"), "lively", 3)

    # Message ids, as the bot numbers them: in time order.
    in_order = sorted(messages, key=lambda e: e["at"])
    for n, event in enumerate(in_order, start=1):
        event["id"] = f"msg-{n:06d}"
        # keep `id` first, as the bot writes it
        for key in ("type", "member", "at", "chat", "words"):
            event[key] = event.pop(key)

    # The bot re-exports the last minutes of the 03-17 session: same ids, same content.
    session = at(date(2026, 3, 17), "20:00")
    tail = [
        e
        for e in in_order
        if e["chat"] == "expert"
        and session <= datetime.fromisoformat(e["at"]) < session + timedelta(hours=2)
    ][-8:]
    for event in tail:
        log.again(event, session + timedelta(hours=3))
    # A member edited a lively message and the bot sent it again under the same id.
    edited = rng.choice([e for e in in_order if e["chat"] == "lively" and e["member"] != OWNER])
    log.again(dict(edited, words=edited["words"] + 17), datetime.fromisoformat(edited["at"]))

    # Lines the engine must report and step over.
    fan = rng.choice([m.name for m in crowd if m.eager and m.expert > 0])
    # An old bot plugin writes the word count as text.
    wrong = {"type": "message", "member": fan, "at": "2026-03-24T20:31:00", "chat": "expert"}
    log.broken(
        json.dumps(dict(wrong, words="十几"), ensure_ascii=False), at(date(2026, 3, 24), "20:31:00")
    )
    # The bot also logs red packets, which this scheme does not declare.
    red_packet = {"type": "red_packet", "member": fan, "at": "2026-03-12T21:00:00", "amount": 20}
    log.broken(json.dumps(red_packet, ensure_ascii=False), at(date(2026, 3, 12), "21:00:00"))
    # A sign-in from a member who left the group before the bot could name them.
    nobody = {"type": "signin", "at": "2026-03-19T07:31:00"}
    log.broken(json.dumps(nobody, ensure_ascii=False), at(date(2026, 3, 19), "07:31:00"))
    # The bot crashed while writing a line; after the restart it wrote the whole line again.
    cut = next(e for e in in_order if e["at"] >= "2026-03-15T12:00:00")
    text = json.dumps(cut, ensure_ascii=False)
    log.broken(text[: len(text) // 2], datetime.fromisoformat(cut["at"]) - timedelta(seconds=1))
    return log


# ---- S1: the 21-day writing camp (2-22 March 2026) ------------------------------------

CAMP_DAYS = days(date(2026, 3, 2), 21)
CLASSES = [f"class-{n}" for n in range(1, 9)]
GROUPS = ["a", "b", "c", "d"]
EARLY_BIRD = "w0001"  # the same member tries to be first every day
STEADY_WRITER = "w0002"  # writes every day: every streak tier


def camp_roster(rng: random.Random) -> list[dict[str, str]]:
    """500 members: 8 classes x 4 groups, about 15-16 to a group."""
    rows = []
    for n in range(1, 501):
        klass = CLASSES[(n - 1) % 8]
        group = f"{klass}-{GROUPS[((n - 1) // 8) % 4]}"
        rows.append({"member": f"w{n:04d}", "class": klass, "group": group})
    return rows


def writing_camp(rng: random.Random) -> Log:
    """Homework at two peaks (morning, and the rush before the 21:00 deadline).

    Each member has an engagement level; most fade a little over the three
    weeks, some drop out, and the classes differ (a good class monitor
    matters). An essay under 500 characters earns nothing; likes come with
    the export at the end of the day.
    """
    log = Log()
    class_spirit = {klass: rng.uniform(0.85, 1.1) for klass in CLASSES}
    for row in camp_roster(rng):
        member = row["member"]
        engagement = clamp(rng.betavariate(4, 1.6) * class_spirit[row["class"]], 0.05, 0.99)
        dropout = rng.randrange(5, 21) if rng.random() < 0.12 else None
        if member in (EARLY_BIRD, STEADY_WRITER):
            engagement, dropout = 1.0, None
        for index, day in enumerate(CAMP_DAYS):
            if dropout is not None and index >= dropout:
                break
            steady = member in (EARLY_BIRD, STEADY_WRITER)
            if not steady and rng.random() > engagement * (1 - index * 0.008):
                continue
            # The camp's day runs from 21:00 the evening before to 21:00.
            if member == EARLY_BIRD:
                when = at(day - timedelta(days=1), "21:00:00") + timedelta(
                    seconds=rng.randrange(5, 90)
                )
            elif rng.random() < 0.35:
                when = minutes_after(day, rng.gauss(9 * 60, 50))
            elif rng.random() < 0.1:  # just after the previous evening's deadline
                when = minutes_after(day - timedelta(days=1), 21 * 60 + rng.uniform(0, 150))
            else:
                when = minutes_after(day, rng.gauss(19 * 60 + 50, 40))
                when = min(when, at(day, "20:59:59"))
            chars = int(clamp(rng.gauss(950, 320), 600 if steady else 120, 4000))
            likes = int(rng.expovariate(1 / 6))
            log.add("homework", member, when, {"chars": chars, "likes": likes})
            if rng.random() < 0.01:  # the app resubmits on a bad connection
                log.again(log.entries[-1].event or {}, when + timedelta(seconds=3))
        # Members who write a second, shorter piece the same day (only one counts).
        if rng.random() < 0.05:
            day = rng.choice(CAMP_DAYS)
            log.add("homework", member, at(day, "12:30:00"), {"chars": 620, "likes": 1})
    # Applause: the camp leader and the eight class monitors grant coins with a reason.
    # (A generator of its own, so that the homework above stays as it was.)
    applause = random.Random(CAMP_SEED + 1)
    reasons = ["helped a classmate", "organised an activity", "posted a great plan"]
    granters = ["leader-li", *(f"monitor-{n}" for n in range(1, 9))]
    for day in CAMP_DAYS:
        for granter in granters:
            if applause.random() < 0.45:
                klass = int(granter.rsplit("-", 1)[1]) if granter != "leader-li" else 0
                pool = range(klass, 501, 8) if klass else range(1, 501)
                member = f"w{applause.choice(list(pool)):04d}"
                when = minutes_after(day, applause.gauss(20 * 60, 25))
                points = applause.choice([10, 20, 20, 30, 50, 100])
                attrs = {"by": granter, "points": points, "reason": applause.choice(reasons)}
                log.add("grant", member, min(when, at(day, "20:59:00")), attrs)
    # A piece posted after the camp's last deadline is outside the season.
    log.add("homework", "w0107", at(CAMP_DAYS[-1], "21:30:00"), {"chars": 800, "likes": 0})
    return log


def write_roster(path: Path, rows: list[dict[str, str]]) -> None:
    columns = list(rows[0])
    lines = [",".join(columns)] + [",".join(r[c] for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


# ---- S5: the city groups' check-in race (6-12 April 2026) ------------------------------

CITIES = [
    "beijing",
    "shanghai",
    "guangzhou",
    "shenzhen",
    "hangzhou",
    "chengdu",
    "wuhan",
    "xian",
    "nanjing",
    "suzhou",
    "tianjin",
    "chongqing",
]


def city_roster(rng: random.Random) -> list[dict[str, str]]:
    """12 city groups of 12 to 39 members."""
    return [
        {"member": f"{city}-{n:02d}", "city": city}
        for city in CITIES
        for n in range(rng.randrange(12, 40))
    ]


def city_race(rng: random.Random) -> Log:
    """The race is for the first after midnight, and between cities for the
    share of their members who checked in; some members never check in."""
    log = Log()
    race = days(date(2026, 4, 6), 7)
    roster = city_roster(random.Random(RACE_SEED))
    keenness = {city: rng.uniform(0.35, 0.9) for city in CITIES}
    for row in roster:
        member, city = row["member"], row["city"]
        if rng.random() < 0.15:
            continue  # joined the group, never checks in
        night_owl = rng.random() < 0.08
        for day in race:
            if rng.random() > keenness[city]:
                continue
            if night_owl:
                when = at(day, "00:00:00") + timedelta(seconds=int(rng.expovariate(1 / 40)))
            else:
                when = minutes_after(day, rng.gauss(8 * 60, 90))
            log.add("checkin", member, when)
        # Reading salons: what the check-in is meant to lead to.
        for day in race:
            if rng.random() < keenness[city] * 0.15:
                log.add("salon", member, minutes_after(day, rng.gauss(20 * 60, 30)))
    return log


# ---- S4, S6, S7, S8, S9: the ledger's schemes --------------------------------------------


def redemption(rng: random.Random) -> Log:
    """S4: a card's year: purchases, and redemptions that sometimes break the rules."""
    log = Log()
    for n in range(1, 121):
        member = f"card{n:03d}"
        spend = rng.uniform(20, 600)
        for day in days(date(2026, 1, 1), 365):
            if rng.random() < 0.12:
                amount = round(rng.expovariate(1 / spend), 2)
                log.add(
                    "purchase",
                    member,
                    minutes_after(day, rng.gauss(14 * 60, 180)),
                    {"amount": amount},
                )
            if rng.random() < 0.01:
                points = rng.choice([300, 500, 800, 1000, 1250, 2000, 6000])
                log.add(
                    "redeem", member, minutes_after(day, rng.gauss(20 * 60, 60)), {"points": points}
                )
    return log


def community_fund(rng: random.Random) -> Log:
    """S6: a year of answers; likes pile up on the best ones."""
    log = Log()
    members = [f"m{n:03d}" for n in range(1, 501)]
    skill = {m: rng.betavariate(2, 5) for m in members}
    for day in days(date(2026, 1, 5), 364):
        for member in rng.sample(members, rng.randrange(10, 30)):
            likes = int(rng.expovariate(1 / (1 + 40 * skill[member])))
            log.add("answer", member, minutes_after(day, rng.gauss(21 * 60, 90)), {"likes": likes})
    return log


def referrals(rng: random.Random) -> Log:
    """S7: 60 founders invite friends over two months; most friends join and check in."""
    log = Log()
    founders = [f"f{n:02d}" for n in range(1, 61)]
    friends = iter(range(1, 10**6))
    for member in founders:
        log.add(
            "join", member, at(date(2026, 3, 1), "09:00:00") + timedelta(minutes=rng.randrange(600))
        )
    for day in days(date(2026, 3, 1), 61):
        for member in founders:
            if rng.random() < 0.6:
                log.add("checkin", member, minutes_after(day, rng.gauss(9 * 60, 60)))
            if rng.random() < 0.04:
                friend = f"n{next(friends):04d}"
                when = minutes_after(day, rng.gauss(15 * 60, 120))
                log.add("invite", member, when, {"invitee": friend})
                if rng.random() < 0.8:
                    log.add("join", friend, when + timedelta(minutes=rng.randrange(5, 240)))
                    first = day + timedelta(days=int(rng.expovariate(1 / 4)))
                    for offset in range(rng.randrange(0, 20)):
                        log.add(
                            "checkin",
                            friend,
                            minutes_after(first + timedelta(days=offset), rng.gauss(9 * 60, 60)),
                        )
    # Invites that must not count toward the premium group (each founder had four real
    # ones): f48 invites the same friend again, f56 invites itself, f45 invites f11's
    # first friend, who joined on f11's invite.
    for member, invitee in (("f48", _first_friend(log, "f48")), ("f56", "f56"), ("f45", "n0001")):
        log.add("invite", member, at(date(2026, 4, 28), "20:15:00"), {"invitee": invitee})
    return log


def _first_friend(log: Log, member: str) -> str:
    """The first friend `member` invited."""
    for entry in log.sorted():
        event = entry.event
        if event is not None and event["type"] == "invite" and event["member"] == member:
            return str(event["invitee"])
    raise ValueError(f"{member} invited nobody")


def group_bot(rng: random.Random) -> Log:
    """S8: 80 members over 60 days; some go quiet, a few advertise."""
    log = Log()
    for n in range(1, 81):
        member = f"g{n:03d}"
        chatty = rng.betavariate(2, 3)
        quits = rng.randrange(10, 60) if rng.random() < 0.2 else 60
        spammer = rng.random() < 0.05
        for index, day in enumerate(days(date(2026, 5, 1), 60)):
            if index >= quits:
                break
            if rng.random() < chatty:
                log.add("checkin", member, minutes_after(day, rng.gauss(9 * 60, 45)))
            for _ in range(int(rng.expovariate(1 / (chatty * 5)))):
                log.add(
                    "message",
                    member,
                    minutes_after(day, rng.gauss(21 * 60, 90)),
                    {"words": int(rng.expovariate(1 / 12))},
                )
            if rng.random() < chatty * 0.05:
                log.add(
                    "red_packet",
                    member,
                    minutes_after(day, rng.gauss(21 * 60, 30)),
                    {"amount": rng.choice([5, 10, 20])},
                )
            if spammer and rng.random() < 0.1:
                log.add(
                    "ad",
                    member,
                    minutes_after(day, rng.gauss(13 * 60, 60)),
                    {"red_packet": rng.random() < 0.3},
                )
    return log


def member_day(rng: random.Random) -> Log:
    """S9: 120 members over a quarter; Tuesdays are busier; coupons bought with points."""
    log = Log()
    for n in range(1, 121):
        member = f"v{n:03d}"
        keen = rng.betavariate(2, 3)
        for day in days(date(2026, 4, 1), 91):
            tuesday = 1.6 if day.weekday() == 1 else 1.0
            if rng.random() < keen * tuesday:
                log.add("checkin", member, minutes_after(day, rng.gauss(10 * 60, 120)))
            for _ in range(int(rng.random() < keen * 0.5 * tuesday) * rng.randrange(1, 5)):
                log.add(
                    "quiz",
                    member,
                    minutes_after(day, rng.gauss(20 * 60, 60)),
                    {"correct": rng.random() < 0.7},
                )
            if rng.random() < keen * 0.2:
                log.add(
                    "topic",
                    member,
                    minutes_after(day, rng.gauss(21 * 60, 60)),
                    {"words": int(rng.expovariate(1 / 80))},
                )
            if rng.random() < 0.01:
                log.add("trial", member, minutes_after(day, rng.gauss(15 * 60, 60)))
            if day.weekday() == 1 and rng.random() < keen:
                log.add("blind_box", member, minutes_after(day, rng.gauss(20 * 60, 30)))
            if rng.random() < 0.02:
                log.add(
                    "redeem",
                    member,
                    minutes_after(day, rng.gauss(22 * 60, 30)),
                    {"points": rng.choice([100, 150, 200, 120, 500])},
                )
    return log


def main() -> None:
    for name, build, seed in (
        ("daily_tasks", daily_tasks, DAILY_SEED),
        ("community", community, COMMUNITY_SEED),
        ("writing_camp", writing_camp, CAMP_SEED),
        ("city_race", city_race, RACE_SEED),
        ("redemption", redemption, 20260104),
        ("community_fund", community_fund, 20260105),
        ("referrals", referrals, 20260301),
        ("group_bot", group_bot, 20260501),
        ("member_day", member_day, 20260401),
    ):
        path = HERE / f"{name}.events.jsonl"
        lines = build(random.Random(seed)).write(path)
        print(f"{path.name}: {lines} lines, {path.stat().st_size:,} bytes")
    write_roster(HERE / "writing_camp.roster.csv", camp_roster(random.Random(CAMP_SEED)))
    write_roster(HERE / "city_race.roster.csv", city_roster(random.Random(RACE_SEED)))
    shop_sample(HERE / "shop.events.jsonl")


def shop_sample(path: Path) -> None:
    """200 members of the shop's launch, all 60 days (the full 5,000 are simulated
    by `incentive simulate`; a sample keeps the golden records small)."""
    import incentive
    from incentive.population import load_population
    from incentive.simulation import simulate_scheme

    source = HERE / "shop.population.yaml"
    population = load_population(source.read_text(encoding="utf-8"), source.name)
    population = population.model_copy(
        update={
            "members": 200,
            "engagement": population.engagement.model_copy(update={"joiners": 2}),
        }
    )
    run = simulate_scheme(incentive.load(HERE / "shop.incentive"), population)
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in run.simulated.events)
    path.write_text(text, encoding="utf-8")
    print(f"{path.name}: {len(run.simulated.events)} lines, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
