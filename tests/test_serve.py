"""`incentive serve`: the real HTTP service, started as a process, called over HTTP.

- the routes: POST /events (one or a batch), POST /redeem, GET /members/{id},
  GET /boards/{name}, the OpenAPI schema;
- concurrent duplicate POSTs of one event pay it once;
- the server killed with SIGKILL while a client streams events, then started
  again, the client re-sending what was not acknowledged: nothing is lost and
  nothing paid twice (the ledger equals an uninterrupted run's).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx2")  # httpx's successor, as starlette's TestClient
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import incentive  # noqa: E402
from incentive.live import open_live  # noqa: E402
from incentive.records import LEDGER_KINDS  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

SHOP = """
scheme "Shop" {
  currency coins
  timezone "Asia/Shanghai"

  rule checkin {
    on checkin
    award 10
    limit 1 per day
  }

  rule review {
    on review
    award 3
    cap 9 per day
  }

  board top {
    top 3 per day by points
  }

  redeem coupon {
    on redeem
    amount points
    minimum 5
  }
}
"""


SERVE = [sys.executable, "-m", "incentive", "serve"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(
    scheme: Path, store: Path, lang: str | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    serve = SERVE if lang is None else [*SERVE[:-1], "--lang", lang, "serve"]
    process = subprocess.Popen(
        [*serve, "--state", str(store), "--port", str(port), str(scheme)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()


@pytest.fixture
def scheme(tmp_path: Path) -> Path:
    path = tmp_path / "shop.incentive"
    path.write_text(SHOP, encoding="utf-8")
    return path


def _event(i: int, member: str, kind: str = "review", day: int = 2) -> dict[str, Any]:
    return {
        "id": f"e{i}",
        "type": kind,
        "member": member,
        "at": f"2026-03-0{day}T{8 + i % 12:02d}:00",
    }


def test_the_routes_and_the_openapi_schema(tmp_path: Path, scheme: Path) -> None:
    with _server(scheme, tmp_path / "shop.db") as (url, _):
        one = httpx.post(f"{url}/events", json=_event(0, "ana", "checkin")).json()
        assert [r["kind"] for r in one["records"]] == ["award"]
        batch = httpx.post(f"{url}/events", json=[_event(i, "ana") for i in range(1, 5)]).json()
        assert [r["kind"] for r in batch["records"]] == ["award", "award", "award", "refused"]
        spent = httpx.post(
            f"{url}/redeem",
            json={"member": "ana", "points": 6, "id": "r1", "at": "2026-03-02T21:00"},
        ).json()
        assert [(r["kind"], r["points"]) for r in spent["records"]] == [("redeem", -6)]
        member = httpx.get(f"{url}/members/ana").json()
        assert member["balances"] == {"coins": 13}
        assert [r["kind"] for r in member["records"]][-1] == "redeem"
        assert len(httpx.get(f"{url}/members/ana", params={"limit": 2}).json()["records"]) == 2
        httpx.post(f"{url}/events", json=_event(9, "bo", "checkin", day=3))  # Monday closes
        board = httpx.get(f"{url}/boards/top").json()
        assert [(r["kind"], r["member"], r["rank"]) for r in board["lines"]] == [
            ("board", "ana", 1)
        ]
        coins = httpx.get(f"{url}/boards/coins").json()
        assert coins["lines"] == [{"member": "ana", "balance": 13}, {"member": "bo", "balance": 10}]
        missing = httpx.get(f"{url}/boards/tops")
        assert missing.status_code == 404 and "did you mean `top`?" in missing.json()["detail"]
        bad = httpx.post(f"{url}/events", json={"type": "checkin", "member": "cy", "at": "soon"})
        assert bad.json()["records"][0]["kind"] == "bad_event"
        schema = httpx.get(f"{url}/openapi.json").json()
        assert {"/events", "/redeem", "/members/{member}", "/boards/{name}"} <= set(schema["paths"])


def test_each_request_in_its_language(tmp_path: Path, scheme: Path) -> None:
    """Accept-Language chooses the language of the reasons and messages of one request
    (zh, zh-CN, zh-Hans: Chinese); the records are the same apart from the reason."""
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    with _server(scheme, tmp_path / "shop.db") as (url, _):
        batch = [_event(i, "ana") for i in range(1, 5)]
        zh = httpx.post(f"{url}/events", json=batch, headers=chinese).json()["records"]
        assert [r["reason"] for r in zh] == ["规则 `review`"] * 3 + [
            "已达规则 `review` 每天 9 的上限"
        ]
        again = httpx.post(f"{url}/events", json=batch[:1], headers={"Accept-Language": "en"})
        assert (
            again.json()["records"][0]["reason"] == "this event id was already processed: skipped"
        )
        member = httpx.get(f"{url}/members/ana", headers={"Accept-Language": "zh-Hans"}).json()
        reasons = [r["reason"] for r in member["records"]]
        assert reasons[-1] == "此事件 id 已处理过：跳过"  # the same stored record, in Chinese
        english = httpx.get(f"{url}/members/ana").json()  # no header: the server's default
        assert [r["reason"] for r in english["records"]][-1].startswith("this event id")
        assert [{**r, "reason": ""} for r in english["records"]] == [
            {**r, "reason": ""} for r in member["records"]
        ]
        missing = httpx.get(f"{url}/boards/tops", headers={"Accept-Language": "zh"})
        assert missing.status_code == 404
        assert missing.json()["detail"] == "没有榜单或货币 `tops`（是不是想写 `top`？）"
    with _server(scheme, tmp_path / "shop.db", lang="zh") as (url, _):
        member = httpx.get(f"{url}/members/ana").json()  # the default is now Chinese
        assert member["records"][0]["reason"] == "规则 `review`"
        asked = httpx.get(f"{url}/members/ana", headers={"Accept-Language": "en-US"}).json()
        assert asked["records"][0]["reason"] == "rule `review`"
        other = httpx.get(f"{url}/members/ana", headers={"Accept-Language": "fr"}).json()
        assert other["records"][0]["reason"] == "规则 `review`"


def test_a_request_it_cannot_read_is_answered_in_its_language(tmp_path: Path, scheme: Path) -> None:
    """A 422 (a field missing or of the wrong type, a body that is not JSON, a query
    parameter that is no number): each error keeps pydantic's `type` and its `loc`, a
    client's stable handles, and says `msg` in the request's language; English is
    FastAPI's own answer."""
    from test_i18n_coverage import english_left

    chinese = {"Accept-Language": "zh-CN,zh;q=0.9"}
    bad_requests: list[tuple[str, str, dict[str, Any]]] = [
        ("post", "/redeem", {"json": {"member": "ana", "points": "many", "at": "2026-03-02"}}),
        ("post", "/redeem", {"json": {"member": "ana", "points": 1.5, "id": "r", "at": "x"}}),
        ("post", "/redeem", {"json": ["not", "an", "object"]}),
        (
            "post",
            "/events",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        ),
        ("post", "/events", {"json": "a text"}),
        ("get", "/members/ana?limit=some", {}),
        ("get", "/boards/top?top=ten", {}),
    ]
    with _server(scheme, tmp_path / "shop.db") as (url, _):
        for method, path, options in bad_requests:
            answers = {}
            for lang, headers in (("zh", chinese), ("en", {"Accept-Language": "en"})):
                merged = {**options, "headers": {**options.get("headers", {}), **headers}}
                answer = httpx.request(method, f"{url}{path}", **merged)
                assert answer.status_code == 422, (path, answer.text)
                answers[lang] = answer.json()["detail"]
            zh, en = answers["zh"], answers["en"]
            assert [(e["type"], e["loc"]) for e in zh] == [(e["type"], e["loc"]) for e in en]
            for error in zh:
                assert any("\u4e00" <= c <= "\u9fff" for c in error["msg"]), error
                assert not english_left(error["msg"]), error
            assert all(any(c.isascii() and c.isalpha() for c in e["msg"]) for e in en)
        missing = httpx.post(
            f"{url}/redeem", json={"member": "ana", "points": 5}, headers=chinese
        ).json()["detail"]
        assert {(tuple(e["loc"]), e["type"], e["msg"]) for e in missing} == {
            (("body", "id"), "missing", "缺少这个字段"),
            (("body", "at"), "missing", "缺少这个字段"),
        }
        english = httpx.post(f"{url}/redeem", json={"member": "ana", "points": 5}).json()
        assert {e["msg"] for e in english["detail"]} == {"Field required"}


def test_concurrent_duplicate_posts_pay_once(tmp_path: Path, scheme: Path) -> None:
    with _server(scheme, tmp_path / "shop.db") as (url, _):
        event = _event(0, "ana", "checkin")
        kinds: list[str] = []

        def post() -> None:
            with httpx.Client(timeout=30) as client:
                kinds.extend(
                    r["kind"] for r in client.post(f"{url}/events", json=event).json()["records"]
                )

        threads = [threading.Thread(target=post) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(kinds) == ["award"] + ["duplicate"] * 19
        assert httpx.get(f"{url}/members/ana").json()["balances"] == {"coins": 10}


def test_sigkill_mid_stream_then_restart_loses_and_doubles_nothing(
    tmp_path: Path, scheme: Path
) -> None:
    members = ("ana", "bo", "cy", "dee")
    events = [
        _event(i, members[i % 4], ("checkin", "review", "review")[i % 3], day=2 + i // 60)
        for i in range(240)
    ]
    store = tmp_path / "shop.db"
    draw = random.Random(int(os.environ.get("INCENTIVE_CRASH_SEED", "15")))
    acknowledged = 0  # the client's position: events answered by the server
    midway = 0  # kills that came while events were still being sent
    for life in range(12):
        if acknowledged == len(events):
            break
        with _server(scheme, store) as (url, process):
            killer = None
            if life < 4:  # SIGKILL while the client streams, after a random number of events
                target = acknowledged + draw.randrange(1, (len(events) - acknowledged) // 2)
                pause = draw.uniform(0, 0.01)  # anywhere in a request, or between two

                def kill(target: int = target, pause: float = pause) -> None:
                    # the client's position, read live on purpose
                    while acknowledged < target and process.poll() is None:  # noqa: B023
                        time.sleep(0.001)
                    time.sleep(pause)
                    process.send_signal(signal.SIGKILL)

                killer = threading.Thread(target=kill)
                killer.start()
            with httpx.Client(timeout=10) as client:
                while acknowledged < len(events):
                    chunk = events[acknowledged : acknowledged + draw.choice((1, 1, 3))]
                    try:
                        answer = client.post(f"{url}/events", json=chunk)
                    except httpx.TransportError:
                        midway += 1
                        break  # no answer: send the same events again to the next server
                    assert answer.status_code == 200
                    acknowledged += len(chunk)
            if killer is not None:
                killer.join()
                process.wait()
    assert acknowledged == len(events)
    assert midway == 4
    program = incentive.compile(SHOP, "shop.incentive")
    expected = program.session()
    paid = [r for e in events for r in expected.feed(e) if r.kind in LEDGER_KINDS]
    with open_live(program, store) as live:
        ledger = [row.record for row in live.records() if row.record.kind in LEDGER_KINDS]
        assert [r.to_json() for r in ledger] == [r.to_json() for r in paid]
        assert live.balances() == expected.balances()
        assert live.store.integrity() == "ok"  # type: ignore[attr-defined]
