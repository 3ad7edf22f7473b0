"""Protocol messages: round trips for every kind, unknown fields kept, and only ProtocolError from junk."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flushscope.protocol import messages as m
from flushscope.protocol.messages import (
    CancelRequest,
    Chunk,
    Done,
    ErrorMessage,
    FlushDone,
    GenerationRequest,
    PhonemeTimestamps,
    ProtocolError,
    Timings,
    UnknownMessage,
    WordTimestamps,
    parse_client,
    parse_server,
)

FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000}

CLIENT_FRAMES: list[dict[str, Any]] = [
    # What cartesia 4.2.0 sends for push, flush, push, no_more_inputs (PROTOCOL.md 2.1).
    {"context_id": "c1", "model_id": "sonic-3", "transcript": "Hello there. ", "voice": {"mode": "id", "id": "v"},
     "output_format": FORMAT, "continue": True, "language": "en", "add_timestamps": True, "max_buffer_delay_ms": 0},
    {"context_id": "c1", "model_id": "sonic-3", "transcript": "", "voice": {"mode": "id", "id": "v"},
     "output_format": FORMAT, "continue": True, "flush": True, "language": "en"},
    {"context_id": "c1", "model_id": "sonic-3", "transcript": "", "voice": "6ccbfb76", "output_format": FORMAT,
     "continue": False},
    # Every other field, and the shapes older clients use.
    {"context_id": "c2", "model_id": "sonic-2", "transcript": "Hi", "continue": True,
     "voice": {"mode": "embedding", "embedding": [0.1, 0.2]}, "output_format": FORMAT, "language": None,
     "add_phoneme_timestamps": True, "use_normalized_timestamps": False, "generation_config": {"speed": 1.2},
     "pronunciation_dict_id": "pd", "speed": "fast", "duration": 2.5, "stream": True, "x_unknown": [1]},
]  # fmt: skip

SERVER_FRAMES: list[dict[str, Any]] = [
    {"type": "chunk", "context_id": "c", "status_code": 206, "done": False, "data": "aGVsbG8=", "step_time": 123.0,
     "flush_id": 1},
    {"type": "chunk", "context_id": "c", "status_code": 206, "done": False, "data": "aGVsbG8="},
    {"type": "timestamps", "context_id": "c", "status_code": 206, "done": False, "flush_id": 1,
     "word_timestamps": {"words": ["Hello", "world"], "start": [0.0, 0.5], "end": [0.4, 0.9]}},
    {"type": "phoneme_timestamps", "context_id": "c", "status_code": 206, "done": False, "flush_id": 1,
     "phoneme_timestamps": {"phonemes": ["h", "ə"], "start": [0.0, 0.05], "end": [0.05, 0.1]}},
    {"type": "flush_done", "context_id": "c", "status_code": 206, "done": False, "data": "", "flush_id": 2,
     "flush_done": True},
    {"type": "done", "context_id": "c", "status_code": 206, "done": True},
    {"type": "error", "context_id": "c", "status_code": 400, "done": True,
     "error": "transcript empty or contains only punctuation"},
    {"type": "error", "done": True, "status_code": 429, "error_code": "concurrency_limited",
     "title": "Too many concurrent requests", "message": "You have exceeded your plan's concurrency limit.",
     "request_id": "r:c:r", "context_id": "c"},
    {"type": "novel_type", "context_id": "c", "done": False, "payload": {"a": 1}},
]  # fmt: skip


@pytest.mark.parametrize("obj", CLIENT_FRAMES)
def test_client_messages_round_trip(obj: dict[str, Any]) -> None:
    message = parse_client(json.dumps(obj))
    assert isinstance(message, GenerationRequest)
    out = message.to_obj()
    # None-valued optionals are dropped on the way out; everything else comes back as sent.
    assert out == {k: v for k, v in obj.items() if v is not None}
    assert parse_client(json.dumps(out)) == message


def test_client_message_meanings() -> None:
    push, flush, end = (parse_client(json.dumps(o)) for o in CLIENT_FRAMES[:3])
    assert isinstance(push, GenerationRequest) and push.continue_ and not push.flush
    assert isinstance(flush, GenerationRequest) and flush.flush and flush.transcript == ""
    assert isinstance(end, GenerationRequest) and end.is_end and end.voice == "6ccbfb76"
    extra = parse_client(json.dumps(CLIENT_FRAMES[3]))
    assert isinstance(extra, GenerationRequest) and extra.extra == {"stream": True, "x_unknown": [1]}


def test_cancel_round_trip() -> None:
    message = parse_client('{"cancel": true, "context_id": "ctx-C"}')
    assert message == CancelRequest("ctx-C")
    assert message.to_obj() == {"context_id": "ctx-C", "cancel": True}
    with pytest.raises(ProtocolError, match="cancel"):
        parse_client('{"cancel": "yes", "context_id": "c"}')


@pytest.mark.parametrize("obj", SERVER_FRAMES)
def test_server_messages_round_trip(obj: dict[str, Any]) -> None:
    message = parse_server(json.dumps(obj))
    assert message.to_obj() == obj
    assert parse_server(message.dumps()) == message


def test_server_message_types() -> None:
    kinds = [type(parse_server(json.dumps(o))) for o in SERVER_FRAMES]
    assert kinds == [
        Chunk, Chunk, WordTimestamps, PhonemeTimestamps, FlushDone, Done, ErrorMessage, ErrorMessage, UnknownMessage,
    ]  # fmt: skip
    chunk = parse_server(json.dumps(SERVER_FRAMES[0]))
    assert isinstance(chunk, Chunk) and chunk.audio() == b"hello" and chunk.flush_id == 1
    words = parse_server(json.dumps(SERVER_FRAMES[2]))
    assert isinstance(words, WordTimestamps) and words.words == Timings(
        ("Hello", "world"), (0.0, 0.5), (0.4, 0.9)
    )
    legacy, structured = (parse_server(json.dumps(o)) for o in SERVER_FRAMES[6:8])
    assert isinstance(legacy, ErrorMessage) and legacy.text.startswith("transcript empty")
    assert isinstance(structured, ErrorMessage)
    assert structured.text == "Too many concurrent requests: You have exceeded your plan's concurrency limit."
    unknown = parse_server(json.dumps(SERVER_FRAMES[8]))
    assert isinstance(unknown, UnknownMessage) and unknown.type == "novel_type"
    assert unknown.extra == {"payload": {"a": 1}}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("not json", None),
        ("[1, 2]", None),
        ('{"type": 5}', "type"),
        ('{"type": "chunk", "context_id": 3}', "context_id"),
        ('{"type": "chunk", "data": "x", "flush_id": "one"}', "flush_id"),
        ('{"type": "chunk", "data": "x", "flush_id": true}', "flush_id"),
        (
            '{"type": "timestamps", "word_timestamps": {"words": ["a"], "start": [0], "end": []}}',
            "word_timestamps",
        ),
        ('{"type": "timestamps"}', "word_timestamps"),
        ('{"type": "done", "done": "yes"}', "done"),
    ],
)
def test_bad_server_frames_say_what_is_wrong(text: str, field: str | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_server(text)
    assert caught.value.field == field
    assert caught.value.message


def test_bad_base64_is_a_protocol_error() -> None:
    chunk = parse_server('{"type": "chunk", "context_id": "c", "data": "@@@@"}')
    assert isinstance(chunk, Chunk)
    with pytest.raises(ProtocolError, match="base64"):
        chunk.audio()


def test_bad_client_frames() -> None:
    with pytest.raises(ProtocolError, match="transcript"):
        parse_client('{"context_id": "c"}')
    with pytest.raises(ProtocolError, match="voice"):
        parse_client('{"transcript": "", "voice": 5}')
    with pytest.raises(ProtocolError, match="UTF-8"):
        parse_client(b'{"transcript": "\xff"}')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
frame_objects = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(
            ["chunk", "timestamps", "phoneme_timestamps", "flush_done", "done", "error", "x"]
        )
        | json_values,
        "context_id": json_values,
        "status_code": json_values,
        "done": json_values,
        "data": st.text(alphabet="ABCD=+/@", max_size=12) | json_values,
        "flush_id": json_values,
        "step_time": json_values,
        "word_timestamps": json_values,
        "phoneme_timestamps": json_values,
        "error": json_values,
        "title": json_values,
        "transcript": json_values,
        "cancel": json_values,
        "voice": json_values,
        "output_format": json_values,
        "continue": json_values,
        "flush": json_values,
    },
)


@given(st.one_of(st.text(max_size=200), st.binary(max_size=200), frame_objects.map(json.dumps)))
def test_junk_only_ever_raises_protocol_error(text: str | bytes) -> None:
    for parse in (parse_server, parse_client):
        try:
            message = parse(text)
        except ProtocolError:
            continue
        message.to_obj()  # whatever parsed can be written back


@given(frame_objects)
def test_the_chunk_fast_path_agrees_with_the_general_parser(obj: dict[str, Any]) -> None:
    obj = {**obj, "type": "chunk"}
    fast = m._plain_chunk(obj)
    if fast is None:
        return
    general = m.parse_server_obj({**obj, "x_force_general_path": 1})
    assert isinstance(general, Chunk)
    assert (fast.context_id, fast.status_code, fast.done, fast.data, fast.step_time, fast.flush_id) == (
        general.context_id, general.status_code, general.done, general.data, general.step_time, general.flush_id,
    )  # fmt: skip
