"""`incentive serve`: a live session over HTTP, for bots written in any language.

    POST /events            one event or a list: evaluated, committed, their records
    POST /redeem            {member, points, id, at}: spend points (the redeem block decides)
    GET  /members/{member}  balances, level, history and progress (explain)
    GET  /boards/{name}     a board's latest published lines, or members by a currency
    GET  /health            the scheme and the store's commit count
    GET  /openapi.json      the OpenAPI schema (and /docs to try it)

Every message and reason in a response is in the request's language: Chinese when
`Accept-Language` asks for it first among the languages incentive speaks (zh,
zh-CN, zh-Hans...), English when it asks for English, else the server's default
(`--lang`, else the locale). Records keep their `code`; only the text changes.

One writer: every request that evaluates goes through the live session, which
serialises them (a lock in the process, the store's write lock across
processes), and each is committed before its response is sent. A client that
gets no answer (the server died) sends the same events again: ids already
processed are answered with `duplicate` records and paid nothing. FastAPI is
the optional extra `serve` (`pip install 'incentive[serve]'`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Body, FastAPI, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from incentive import i18n
from incentive.diagnostics import did_you_mean, invalid_message
from incentive.i18n import _
from incentive.live import LiveSession
from incentive.reasons import localize_dict
from incentive.records import Record
from incentive.store import StoreError


def language_of(header: str | None, default: str) -> str:
    """The language an `Accept-Language` header asks for: the first (by weight, then
    order) that incentive speaks; `default` when it names none of them."""
    wanted: list[tuple[float, int, str]] = []
    for order, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = tag.strip().lower().replace("_", "-").split("-")[0]
        if primary in i18n.LANGUAGES and weight > 0:
            wanted.append((-weight, order, primary))
    return min(wanted)[2] if wanted else default


def _records(records: list[Record]) -> list[dict[str, Any]]:
    return [localize_dict(r.to_dict()) for r in records]


class RedeemRequest(BaseModel):
    """Spend points: sent as a `redeem` event (another type with `type`)."""

    model_config = ConfigDict(extra="allow")

    member: str
    points: int = Field(description="points asked for")
    id: str = Field(description="the request's id: a retried request is paid once")
    at: str = Field(description="ISO 8601; without an offset, the scheme's time zone")
    type: str = "redeem"


def create_app(live: LiveSession) -> FastAPI:
    """The HTTP service over one live session (its store stays open for the app's life)."""
    program = live.program
    default = i18n.current()  # the server's language: --lang, else the locale
    app = FastAPI(
        title=f"incentive: {program.name}",
        description="Feed events, redeem points, read balances and boards. Every request "
        "that evaluates is committed before it is answered; ids make retries harmless.",
    )

    @app.middleware("http")
    async def in_its_language(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # the request's language for everything it runs (a context variable: the
        # endpoints' worker threads run in a copy of this context)
        with i18n.language(language_of(request.headers.get("accept-language"), default)):
            return await call_next(request)

    # A request FastAPI cannot read (422): each error keeps pydantic's `type` (a stable
    # code a client branches on), `loc` and `input`; its `msg` is given in the request's
    # language. English is FastAPI's own response, unchanged.
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        if i18n.current() == "en":
            return await request_validation_exception_handler(request, err)
        errors = jsonable_encoder(err.errors())
        detail = [{**error, "msg": invalid_message(error)} for error in errors]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(StoreError)
    def store_failed(_: Any, err: StoreError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=503)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"scheme": program.name, "commits": live.store.commits()}

    @app.post("/events")
    def post_events(
        body: dict[str, Any] | list[dict[str, Any]] = Body(  # noqa: B008 - FastAPI's way
            ..., description="one event (type, member, at, id, attributes) or a list"
        ),
    ) -> dict[str, Any]:
        """Evaluate events in order, committed together; their records."""
        records = live.feed(body) if isinstance(body, dict) else live.feed_many(body)
        return {"records": _records(records)}

    @app.post("/redeem")
    def post_redeem(request: RedeemRequest) -> dict[str, Any]:
        extra = dict(request.model_extra or {})
        records = live.redeem(
            request.member,
            request.points,
            id=request.id,
            at=request.at,
            type=request.type,
            **extra,
        )
        return {"records": _records(records)}

    @app.get("/members/{member}")
    def get_member(member: str, limit: int | None = None) -> dict[str, Any]:
        """Balances, level, history (the last `limit` records) and progress."""
        explained = live.explain(member)
        explained["records"] = [localize_dict(r) for r in explained["records"]]
        if limit is not None:
            explained["records"] = explained["records"][-limit:] if limit else []
        return explained

    @app.get("/boards/{name}")
    def get_board(name: str, top: int = 10) -> dict[str, Any]:
        """A board (or rank rule): the lines it published at its latest close. A currency:
        members by balance, highest first."""
        if name in program.currencies:
            rows = live.leaderboard(name, top)
            return {"board": name, "lines": [{"member": m, "balance": b} for m, b in rows]}
        boards = [rule.name for rule in program.rules if rule.rank is not None]
        if name not in boards:
            near = did_you_mean(name, [*boards, *program.currencies])
            hint = _(" (did you mean `{near}`?)").format(near=near) if near else ""
            raise HTTPException(404, _("no board or currency `{name}`").format(name=name) + hint)
        published = live.records(kinds=("board", "rank", "perk", "badge"))
        lines = [row.record for row in published if row.record.rule == name]
        latest = [r for r in lines if lines and r.at == lines[-1].at]
        return {"board": name, "lines": _records(latest[:top])}

    return app
