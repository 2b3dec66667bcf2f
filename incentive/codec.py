"""The state codec: an `EngineState` as versioned JSON, and back, exactly.

A bot exports its state, a test compares two states, a store keeps one member
per row: all of them go through this module, so there is one format. The
envelope names the format and its version, so that a later release can read
(or refuse with a clear message) what an earlier one wrote:

    {"format": "incentive-state", "version": 1, "state": {...}}

Times are ISO 8601 (`clock` in UTC, `open_day` a date); everything else in the
state is already JSON (dicts, lists, strings, whole numbers, booleans, null;
rank measures are decimal text, never floats). Decoding gives a state equal to
the one encoded, field by field, dict order included (the engine's iteration
order, and so its records, depend on it).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_type_hints

import msgspec

from incentive.state import EngineState, MemberState

FORMAT = "incentive-state"
VERSION = 1

_ENCODER = msgspec.json.Encoder()
_STATE = msgspec.json.Decoder(EngineState)
_MEMBER = msgspec.json.Decoder(MemberState)
_ANY = msgspec.json.Decoder()


class _Envelope(msgspec.Struct):
    format: str = ""
    version: Any = None
    state: msgspec.Raw = msgspec.Raw(b"null")


_ENVELOPE = msgspec.json.Decoder(_Envelope)


class StateFormatError(ValueError):
    """Bytes that are not a state this version can read; the message says why."""


def encode_state(state: EngineState) -> bytes:
    """The state as one JSON document, in the versioned envelope."""
    return b'{"format":"%s","version":%d,"state":%s}' % (
        FORMAT.encode(),
        VERSION,
        _ENCODER.encode(state),
    )


def decode_state(data: bytes | str) -> EngineState:
    """A state from `encode_state`'s bytes; StateFormatError if they are not one."""
    try:
        envelope = _ENVELOPE.decode(data)
    except msgspec.DecodeError as err:
        raise StateFormatError(f"not an incentive state: {err}") from None
    if envelope.format != FORMAT:
        raise StateFormatError(f"not an incentive state (no `format: {FORMAT}`)")
    if envelope.version != VERSION:
        raise StateFormatError(
            f"state format version {envelope.version!r}: this release reads version {VERSION}"
        )
    try:
        # The typed decoder: dataclasses, datetimes and dates come back as they were.
        return _STATE.decode(envelope.state)
    except msgspec.DecodeError as err:
        raise StateFormatError(f"the state does not fit version {VERSION}: {err}") from None


def encode_member(member: MemberState) -> bytes:
    """One member's state (a store keeps one row per member)."""
    return _ENCODER.encode(member)


def decode_member(data: bytes | str) -> MemberState:
    return _MEMBER.decode(data)


def encode_value(value: Any) -> bytes:
    """Any other part of the state (a store keeps one row per field)."""
    return _ENCODER.encode(value)


def decode_value(data: bytes | str) -> Any:
    return _ANY.decode(data)


# The fields of the state beside `members`, each with its own typed decoder: a store
# keeps one row per field and rewrites only the fields an event changed.
_HINTS = get_type_hints(EngineState)
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(EngineState) if f.name != "members")
_FIELD_DECODERS = {name: msgspec.json.Decoder(_HINTS[name]) for name in FIELDS}


def encode_field(state: EngineState, name: str) -> bytes:
    return _ENCODER.encode(getattr(state, name))


def decode_field(name: str, data: bytes | str) -> Any:
    return _FIELD_DECODERS[name].decode(data)
