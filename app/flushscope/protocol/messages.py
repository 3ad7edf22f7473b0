"""Typed messages of the Cartesia TTS WebSocket, both directions, with a parser that never loses data.

Parsing keeps every field the protocol does not define (``extra``) and every message type it does not know
(:class:`UnknownMessage`): an inspector must show what was really sent. The only exception the parsers
raise is :class:`ProtocolError`, which says what was wrong and where.
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode, b64encode
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

JsonObject: TypeAlias = dict[str, Any]

#: The voice forms clients send: ``{"mode": "id", "id": ...}``, ``{"mode": "embedding", ...}``,
#: ``{"id": ...}``
#: or a bare id string. Kept as sent.
Voice: TypeAlias = str | Mapping[str, Any]


#: The largest integer a field may hold (a 64-bit number, as every reader of the protocol stores one), and
#: the largest magnitude of a number (far beyond any time or rate, and still exact as a float's integer).
MAX_INT: Final = (1 << 63) - 1
MAX_NUMBER: Final = 1e15


def voice_id_of(voice: object) -> str | None:
    """The voice's identity in any of the shapes clients send: the same for a bare id, ``{"id": ...}`` and
    ``{"mode": "id", "id": ...}``; an embedding as its JSON (cut at 2000 characters); None for no voice."""
    if isinstance(voice, str):
        return voice
    if isinstance(voice, Mapping):
        if isinstance(voice.get("id"), str):
            return str(voice["id"])
        if voice.get("embedding") is not None:
            return json.dumps(voice["embedding"])[:2000]
    return None


class ProtocolError(ValueError):
    """A frame that is not a valid message: not JSON, not an object, or a field of the wrong type."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- small typed field readers: each names the field in its error -------------------------------------


def _str(obj: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise ProtocolError(f"missing field {key!r}", field=key)
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"field {key!r} must be a string, not {json_kind(value)}", field=key)
    return value


def _bool(obj: Mapping[str, Any], key: str, default: bool | None = False) -> bool | None:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ProtocolError(f"field {key!r} must be true or false, not {json_kind(value)}", field=key)
    return value


def _int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int subclass; true is not a flush id.
    if isinstance(value, bool) or not isinstance(value, int):
        if not (isinstance(value, float) and value.is_integer()):
            raise ProtocolError(f"field {key!r} must be an integer, not {json_kind(value)}", field=key)
        value = int(value)
    if not -MAX_INT <= value <= MAX_INT:
        raise ProtocolError(
            f"field {key!r} must be a 64-bit integer, not one of {len(str(abs(value)))} digits", field=key
        )
    return value


def _number(obj: Mapping[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"field {key!r} must be a number, not {json_kind(value)}", field=key)
    if not -MAX_NUMBER <= value <= MAX_NUMBER:
        raise ProtocolError(f"field {key!r} must be a number of at most {MAX_NUMBER:.0e}", field=key)
    return float(value)


def _object(obj: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError(f"field {key!r} must be an object, not {json_kind(value)}", field=key)
    return value


def json_kind(value: object) -> str:
    """How a JSON value is named in error messages: "a string", "an object", "null", ..."""
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _extra(obj: Mapping[str, Any], known: frozenset[str]) -> JsonObject:
    return {k: v for k, v in obj.items() if k not in known}


def refuse_constant(word: str) -> Any:
    """For ``json.loads(..., parse_constant=...)``: ``NaN`` and ``Infinity`` are not JSON (Python's reader takes
    them, no other does), so text holding them is refused where JSON is."""
    raise ValueError(f"{word} is not a JSON number")


def load_object(text: str | bytes | bytearray) -> JsonObject:
    """Parse one frame's text into a JSON object, or raise :class:`ProtocolError`."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"frame is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        obj = json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ProtocolError(f"frame is not JSON: {exc.msg.removesuffix(' at')} at {where}") from None
    except ValueError as exc:
        # A number too long to convert, or NaN and Infinity.
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("frame is not JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"frame must be a JSON object, not {json_kind(obj)}")
    return obj


# --- client -> server ---------------------------------------------------------------------------------

_REQUEST_FIELDS: Final = frozenset(
    {
        "context_id", "model_id", "transcript", "voice", "output_format", "continue", "flush", "language",
        "add_timestamps", "add_phoneme_timestamps", "use_normalized_timestamps", "max_buffer_delay_ms",
        "generation_config", "pronunciation_dict_id", "speed", "duration",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """A generation request: a transcript (possibly empty) for a context, with its generation settings.

    ``continue_`` is the wire field ``continue``. An empty transcript with ``flush`` is a manual flush; an
    empty transcript with ``continue_`` false ends the context.
    """

    transcript: str
    context_id: str | None = None
    model_id: str | None = None
    voice: Voice | None = None
    output_format: Mapping[str, Any] | None = None
    continue_: bool = False
    flush: bool = False
    language: str | None = None
    add_timestamps: bool = False
    add_phoneme_timestamps: bool = False
    use_normalized_timestamps: bool | None = None
    max_buffer_delay_ms: int | None = None
    generation_config: Mapping[str, Any] | None = None
    pronunciation_dict_id: str | None = None
    speed: str | None = None
    duration: float | None = None
    extra: JsonObject = field(default_factory=dict)

    @property
    def is_end(self) -> bool:
        """True for the last input of a context (``continue`` false)."""
        return not self.continue_

    @classmethod
    def from_obj(cls, obj: Mapping[str, Any]) -> GenerationRequest:
        transcript = _str(obj, "transcript", required=True)
        assert transcript is not None
        voice = obj.get("voice")
        if voice is not None and not isinstance(voice, str | dict):
            raise ProtocolError(
                f"field 'voice' must be an id string or an object, not {json_kind(voice)}", field="voice"
            )
        return cls(
            transcript=transcript,
            context_id=_str(obj, "context_id"),
            model_id=_str(obj, "model_id"),
            voice=voice,
            output_format=_object(obj, "output_format"),
            continue_=bool(_bool(obj, "continue")),
            flush=bool(_bool(obj, "flush")),
            language=_str(obj, "language"),
            add_timestamps=bool(_bool(obj, "add_timestamps")),
            add_phoneme_timestamps=bool(_bool(obj, "add_phoneme_timestamps")),
            use_normalized_timestamps=_bool(obj, "use_normalized_timestamps", None),
            max_buffer_delay_ms=_int(obj, "max_buffer_delay_ms"),
            generation_config=_object(obj, "generation_config"),
            pronunciation_dict_id=_str(obj, "pronunciation_dict_id"),
            speed=_str(obj, "speed"),
            duration=_number(obj, "duration"),
            extra=_extra(obj, _REQUEST_FIELDS),
        )

    def to_obj(self) -> JsonObject:
        """The wire form: fields in the order real clients send them, absent optionals left out."""
        out: JsonObject = {}
        if self.context_id is not None:
            out["context_id"] = self.context_id
        if self.model_id is not None:
            out["model_id"] = self.model_id
        out["transcript"] = self.transcript
        if self.voice is not None:
            out["voice"] = self.voice if isinstance(self.voice, str) else dict(self.voice)
        if self.output_format is not None:
            out["output_format"] = dict(self.output_format)
        out["continue"] = self.continue_
        if self.flush:
            out["flush"] = True
        optional: dict[str, object] = {
            "language": self.language,
            "use_normalized_timestamps": self.use_normalized_timestamps,
            "max_buffer_delay_ms": self.max_buffer_delay_ms,
            "generation_config": dict(self.generation_config) if self.generation_config is not None else None,
            "pronunciation_dict_id": self.pronunciation_dict_id,
            "speed": self.speed,
            "duration": self.duration,
        }
        if self.add_timestamps:
            out["add_timestamps"] = True
        if self.add_phoneme_timestamps:
            out["add_phoneme_timestamps"] = True
        out.update((k, v) for k, v in optional.items() if v is not None)
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """``{"context_id": ..., "cancel": true}``: stop the context's inputs that have not started."""

    context_id: str
    extra: JsonObject = field(default_factory=dict)

    def to_obj(self) -> JsonObject:
        return {"context_id": self.context_id, "cancel": True, **self.extra}


ClientMessage: TypeAlias = GenerationRequest | CancelRequest


def parse_client_obj(obj: Mapping[str, Any]) -> ClientMessage:
    """Classify and type a client message already loaded from JSON."""
    if "cancel" in obj and "transcript" not in obj:
        if obj["cancel"] is not True:
            raise ProtocolError("field 'cancel' must be true", field="cancel")
        context_id = _str(obj, "context_id", required=True)
        assert context_id is not None
        return CancelRequest(context_id, _extra(obj, frozenset({"context_id", "cancel"})))
    return GenerationRequest.from_obj(obj)


def parse_client(text: str | bytes | bytearray) -> ClientMessage:
    """Parse a client->server text frame."""
    return parse_client_obj(load_object(text))


# --- server -> client ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerMessage:
    """Fields every server frame has. ``extra`` holds the fields the protocol does not define."""

    context_id: str | None
    status_code: int | None
    done: bool
    extra: JsonObject

    type: str = ""  # overridden as a class-level constant by each subclass

    def _common(self) -> JsonObject:
        out: JsonObject = {"type": self.type}
        if self.context_id is not None:
            out["context_id"] = self.context_id
        if self.status_code is not None:
            out["status_code"] = self.status_code
        out["done"] = self.done
        return out

    def to_obj(self) -> JsonObject:
        return {**self._common(), **self.extra}

    def dumps(self) -> str:
        return json.dumps(self.to_obj(), separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Chunk(ServerMessage):
    """One frame of audio: base64 of raw samples in the context's output format."""

    data: str = ""
    step_time: float | None = None
    flush_id: int | None = None
    type: str = "chunk"

    def audio(self) -> bytes:
        """The raw audio bytes; :class:`ProtocolError` if ``data`` is not valid base64."""
        return decode_base64(self.data)

    def to_obj(self) -> JsonObject:
        out = self._common()
        out["data"] = self.data
        if self.step_time is not None:
            out["step_time"] = self.step_time
        if self.flush_id is not None:
            out["flush_id"] = self.flush_id
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class Timings:
    """Token texts with start and end times in seconds (words or phonemes)."""

    tokens: tuple[str, ...]
    start: tuple[float, ...]
    end: tuple[float, ...]

    @classmethod
    def from_obj(cls, obj: Mapping[str, Any], tokens_key: str, where: str) -> Timings:
        tokens, start, end = obj.get(tokens_key), obj.get("start"), obj.get("end")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ProtocolError(f"{where}.{tokens_key} must be an array of strings", field=where)
        times: list[tuple[float, ...]] = []
        for name, values in (("start", start), ("end", end)):
            if not isinstance(values, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and -MAX_NUMBER <= v <= MAX_NUMBER
                for v in values
            ):
                raise ProtocolError(f"{where}.{name} must be an array of numbers (seconds)", field=where)
            if len(values) != len(tokens):
                raise ProtocolError(
                    f"{where}.{name} has {len(values)} entries for {len(tokens)} {tokens_key}", field=where
                )
            times.append(tuple(float(v) for v in values))
        return cls(tuple(tokens), times[0], times[1])

    def to_obj(self, tokens_key: str) -> JsonObject:
        return {tokens_key: list(self.tokens), "start": list(self.start), "end": list(self.end)}


@dataclass(frozen=True, slots=True)
class WordTimestamps(ServerMessage):
    """``type: timestamps``: when each word of the transcript sounds, from the context's first audio."""

    words: Timings = Timings((), (), ())
    flush_id: int | None = None
    type: str = "timestamps"

    def to_obj(self) -> JsonObject:
        out = self._common()
        if self.flush_id is not None:
            out["flush_id"] = self.flush_id
        out["word_timestamps"] = self.words.to_obj("words")
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class PhonemeTimestamps(ServerMessage):
    """``type: phoneme_timestamps``: when each phoneme sounds."""

    phonemes: Timings = Timings((), (), ())
    flush_id: int | None = None
    type: str = "phoneme_timestamps"

    def to_obj(self) -> JsonObject:
        out = self._common()
        if self.flush_id is not None:
            out["flush_id"] = self.flush_id
        out["phoneme_timestamps"] = self.phonemes.to_obj("phonemes")
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class FlushDone(ServerMessage):
    """All audio of the segment ``flush_id`` has been sent. Not terminal: the context stays open."""

    flush_id: int | None = None
    type: str = "flush_done"

    def to_obj(self) -> JsonObject:
        out = self._common()
        out["data"] = self.extra.get("data", "")
        out["flush_id"] = self.flush_id
        out["flush_done"] = True
        out.update((k, v) for k, v in self.extra.items() if k != "data")
        return out


@dataclass(frozen=True, slots=True)
class Done(ServerMessage):
    """The context is finished: every output of it has been sent."""

    type: str = "done"


@dataclass(frozen=True, slots=True)
class ErrorMessage(ServerMessage):
    """An error frame in either shape: legacy ``error`` text and/or ``title``/``message``/``error_code``."""

    error: str | None = None
    title: str | None = None
    message: str | None = None
    error_code: str | None = None
    request_id: str | None = None
    doc_url: str | None = None
    type: str = "error"

    @property
    def text(self) -> str:
        """One human sentence, whichever shape the server used."""
        if self.title and self.message:
            return f"{self.title}: {self.message}"
        return self.message or self.title or self.error or "error with no description"

    def to_obj(self) -> JsonObject:
        out = self._common()
        for key in ("error", "title", "message", "error_code", "request_id", "doc_url"):
            value = getattr(self, key)
            if value is not None or (key == "error_code" and self.title is not None):
                out[key] = value
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class UnknownMessage(ServerMessage):
    """A frame whose ``type`` the protocol does not define (or that has none). Everything is in ``extra``."""

    type: str = ""

    def to_obj(self) -> JsonObject:
        out = self._common()
        if not self.type:
            del out["type"]
        out.update(self.extra)
        return out


ServerMessageT: TypeAlias = (
    Chunk | WordTimestamps | PhonemeTimestamps | FlushDone | Done | ErrorMessage | UnknownMessage
)

_COMMON: Final = frozenset({"type", "context_id", "status_code", "done"})
_KNOWN: Final[dict[str, frozenset[str]]] = {
    "chunk": _COMMON | {"data", "step_time", "flush_id"},
    "timestamps": _COMMON | {"word_timestamps", "flush_id"},
    "phoneme_timestamps": _COMMON | {"phoneme_timestamps", "flush_id"},
    # `data` (empty) rides along on real flush_done frames; keep it in extra so it round-trips.
    "flush_done": _COMMON | {"flush_id", "flush_done"},
    "done": _COMMON,
    "error": _COMMON | {"error", "title", "message", "error_code", "request_id", "doc_url"},
}
_CHUNK_FIELDS: Final = _KNOWN["chunk"]


def _plain_chunk(obj: Mapping[str, Any]) -> Chunk | None:
    """The common case of an audio frame, typed with a handful of exact type checks: audio arrives by the
    thousand per second. Anything unusual returns None and takes the general path, which explains it."""
    if not obj.keys() <= _CHUNK_FIELDS:
        return None
    get = obj.get
    data, context_id, status, done = get("data"), get("context_id"), get("status_code"), get("done", False)
    flush_id, step = get("flush_id"), get("step_time")
    if (
        type(data) is str
        and type(context_id) is str
        and (status is None or type(status) is int)
        and type(done) is bool
        and (flush_id is None or (type(flush_id) is int and -MAX_INT <= flush_id <= MAX_INT))
        and (
            step is None or ((type(step) is float or type(step) is int) and -MAX_NUMBER <= step <= MAX_NUMBER)
        )
    ):
        return Chunk(
            context_id,
            status,
            done,
            {},
            data=data,
            step_time=None if step is None else float(step),
            flush_id=flush_id,
        )
    return None


def parse_server_obj(obj: Mapping[str, Any]) -> ServerMessageT:
    """Type a server message already loaded from JSON."""
    kind = obj.get("type")
    if kind == "chunk":
        chunk = _plain_chunk(obj)
        if chunk is not None:
            return chunk
    if kind is not None and not isinstance(kind, str):
        raise ProtocolError(f"field 'type' must be a string, not {json_kind(kind)}", field="type")
    context_id = _str(obj, "context_id")
    status_code = _int(obj, "status_code")
    done = bool(_bool(obj, "done"))
    known = _KNOWN.get(kind or "")
    if known is None:
        return UnknownMessage(context_id, status_code, done, _extra(obj, _COMMON), type=kind or "")
    extra = _extra(obj, known)
    if kind == "chunk":
        data = _str(obj, "data")
        return Chunk(
            context_id, status_code, done, extra,
            data=data or "", step_time=_number(obj, "step_time"), flush_id=_int(obj, "flush_id"),
        )  # fmt: skip
    if kind == "timestamps":
        words = _object(obj, "word_timestamps")
        if words is None:
            raise ProtocolError("timestamps frame has no 'word_timestamps'", field="word_timestamps")
        return WordTimestamps(
            context_id, status_code, done, extra,
            words=Timings.from_obj(words, "words", "word_timestamps"), flush_id=_int(obj, "flush_id"),
        )  # fmt: skip
    if kind == "phoneme_timestamps":
        phonemes = _object(obj, "phoneme_timestamps")
        if phonemes is None:
            raise ProtocolError(
                "phoneme_timestamps frame has no 'phoneme_timestamps'", field="phoneme_timestamps"
            )
        return PhonemeTimestamps(
            context_id, status_code, done, extra,
            phonemes=Timings.from_obj(phonemes, "phonemes", "phoneme_timestamps"),
            flush_id=_int(obj, "flush_id"),
        )  # fmt: skip
    if kind == "flush_done":
        return FlushDone(context_id, status_code, done, extra, flush_id=_int(obj, "flush_id"))
    if kind == "done":
        return Done(context_id, status_code, done, extra)
    return ErrorMessage(
        context_id, status_code, done, extra,
        error=_text_or_json(obj, "error"), title=_str(obj, "title"), message=_text_or_json(obj, "message"),
        error_code=_str(obj, "error_code"), request_id=_str(obj, "request_id"), doc_url=_str(obj, "doc_url"),
    )  # fmt: skip


def _text_or_json(obj: Mapping[str, Any], key: str) -> str | None:
    # Error texts are strings in every documented shape; render anything else rather than reject the
    # error frame, which is exactly the frame a user most needs to see.
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def parse_server(text: str | bytes | bytearray) -> ServerMessageT:
    """Parse a server->client text frame."""
    return parse_server_obj(load_object(text))


def decode_base64(data: str) -> bytes:
    """Strict base64 (the alphabet and padding the service uses); :class:`ProtocolError` otherwise."""
    try:
        return b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"chunk data is not valid base64: {exc}", field="data") from None


def encode_base64(audio: bytes | bytearray | memoryview) -> str:
    return b64encode(audio).decode("ascii")
