"""Each send-side lint, found on what flushscope's client really sent to the emulator, and not found on the
clean version of the same case."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from rig_support import TIMEOUT, Rig

from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.analysis.lints import Lint
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.model.anomalies import AnomalyKind
from flushscope.core.model.records import ContextState, SegmentState
from flushscope.core.model.session import rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.net.runner import wait_settled

pytestmark = pytest.mark.asyncio


def found(rig: Rig, lint_id: LintId, *, session_over: bool = True) -> list[Lint]:
    return [lint for lint in lint_session(rig.session, session_over=session_over) if lint.id is lint_id]


def send_frames(rig: Rig) -> list[int]:
    return [f.index for f in rig.session.frames if f.dir.value == "send"]


def assert_well_formed(lint: Lint, rig: Rig) -> None:
    """What every lint carries: where, which frames (all sent by the client), and two sentences."""
    ctx = rig.session.contexts[(lint.context_number or 1) - 1]
    assert lint.context_id == ctx.context_id
    assert lint.frames and all(0 <= f < len(rig.session.frames) for f in lint.frames)
    assert lint.message.endswith(".") and lint.advice.endswith(".")
    assert lint.to_json()["severity"] == "advice"


# --- continuation-no-space -----------------------------------------------------------------------


async def test_inputs_that_run_words_together_in_the_buffer_are_found(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play("set max_buffer_delay_ms 3000\ncontext a\nsend Hello\nsend world.\nflush\nend\n")
    (lint,) = found(rig, LintId.CONTINUATION_NO_SPACE)
    hello, world, _, _ = send_frames(rig)
    assert lint.frames == (hello, world)
    assert lint.flush_id == 1
    assert "'Helloworld.'" in lint.message
    assert_well_formed(lint, rig)


@pytest.mark.parametrize(
    "script",
    [
        'send "Hello "\nsend world.\nend',  # the space travels at the end
        'send Hello\nsend " world."\nend',  # or at the start
        'send Hello\nsend ", world."\nend',  # punctuation attaches to the word before it
        "send こんにちは\nsend 元気ですか？\nend",  # written without spaces
        "send It starts at 10:\nsend 30 sharp.\nend",  # a time cut at its colon reads as one
        'send "Hello there. "\nraw {"context_id":"x","transcript":" ","continue":false}\nend',
    ],
    ids=["trailing-space", "leading-space", "punctuation", "japanese", "number", "other-context"],
)
async def test_joins_that_read_right_are_not_flagged(rig_factory: Any, script: str) -> None:
    rig = await rig_factory()
    # Buffered, so that each pair is joined and only the join itself decides.
    await rig.play("set max_buffer_delay_ms 3000\ncontext a id=x\n" + script + "\n")
    assert found(rig, LintId.CONTINUATION_NO_SPACE) == []


# --- short-segment -------------------------------------------------------------------------------


async def test_a_segment_of_one_word_is_found(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play(
        'context a\nsend "Hello "\nflush\nsend "there, how are you doing today?"\nflush\nend\n'
    )
    (lint,) = found(rig, LintId.SHORT_SEGMENT)
    hello, flush, *_ = send_frames(rig)
    assert (lint.flush_id, lint.frames) == (1, (hello, flush))
    assert "1 word" in lint.message and "'Hello '" in lint.message
    assert_well_formed(lint, rig)


async def test_short_inputs_generated_on_receipt_are_found_once_per_segment(rig_factory: Any) -> None:
    rig = await rig_factory()
    settings = GenerationSettings(max_buffer_delay_ms=0)
    ctx_id = rig.client.new_context(settings).context_id
    for word in ("So ", "I think ", "that this will work out fine. "):
        await rig.client.send(ctx_id, word)
    await rig.client.flush(ctx_id)
    await rig.client.end(ctx_id)
    assert await wait_settled(rig.session, rig.client, TIMEOUT)
    (lint,) = found(rig, LintId.SHORT_SEGMENT)
    so, think, *_ = send_frames(rig)
    assert lint.frames == (so, think)
    assert lint.message.startswith("2 inputs of one or two words")


@pytest.mark.parametrize(
    "script",
    [
        "send Sure.\nflush\nsend Let me check that for you right now.\nflush\nend",  # a whole short sentence
        "send Hello world\nflush\nend",  # the context's only segment
        'send "So "\nsend "I think "\nsend that this will work out fine.\nflush\nend',
        "send 今天天气很好，我们去公园散步吧。\nflush\nsend 好主意！我们走吧。\nend",
    ],
    ids=["sentence", "only-segment", "buffered-inputs", "chinese"],
)
async def test_short_pieces_that_are_fine_are_not_flagged(rig_factory: Any, script: str) -> None:
    rig = await rig_factory()
    # The service buffers text (its default) unless the client asks otherwise.
    assert await rig.play("set max_buffer_delay_ms 3000\ncontext a\n" + script + "\n")
    assert found(rig, LintId.SHORT_SEGMENT) == []


# --- context-never-ended -------------------------------------------------------------------------


async def test_a_context_left_open_is_found_once_the_session_is_over(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play("context a\nsend Hello there.\nflush\ncontext b\nsend Goodbye.\nend\n")
    open_ctx = rig.session.contexts[0]
    assert open_ctx.state is ContextState.OPEN
    assert found(rig, LintId.CONTEXT_NEVER_ENDED, session_over=False) == []
    (lint,) = found(rig, LintId.CONTEXT_NEVER_ENDED)
    assert (lint.context_id, lint.context_number, lint.flush_id) == (open_ctx.context_id, 1, None)
    assert lint.frames == (send_frames(rig)[0], send_frames(rig)[1])
    assert_well_formed(lint, rig)


async def test_ended_cancelled_and_rejected_contexts_are_not_left_open(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play(
        "context a\nsend Hello.\nend\ncontext b\nsend Hello.\ncancel\ncontext c\nsend ...\n"
    )
    # The server's error is what ends the last one.
    await rig.until(lambda: rig.session.contexts[2].state is ContextState.FAILED)
    assert found(rig, LintId.CONTEXT_NEVER_ENDED) == []


async def test_a_context_cut_off_by_a_broken_connection_is_not_blamed_on_the_client(rig_factory: Any) -> None:
    from flushscope.emulator.config import Faults

    rig = await rig_factory(faults=Faults(close_after_chunks=2))
    ctx_id = rig.client.new_context(GenerationSettings()).context_id
    await rig.client.send(ctx_id, "A sentence long enough for several chunks of audio.")
    await rig.until(rig.client.closed.is_set)
    await rig.until(lambda: rig.session.contexts[0].state is ContextState.FAILED)
    assert found(rig, LintId.CONTEXT_NEVER_ENDED) == []


# --- empty-flush ---------------------------------------------------------------------------------


async def test_a_second_flush_in_a_row_is_found(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play('context a\nsend "Hello there. "\nflush\nflush\nsend Bye now.\nflush\nend\n')
    (lint,) = found(rig, LintId.EMPTY_FLUSH)
    _, first_flush, second_flush, *_ = send_frames(rig)
    assert (lint.frames, lint.flush_id) == ((first_flush, second_flush), 2)
    assert f"previous flush (frame {first_flush})" in lint.message
    assert_well_formed(lint, rig)


async def test_a_flush_right_after_the_first_input_is_not_empty(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play('context a\nsend "Hello there. "\nflush\nsend Bye now.\nflush\nend\n')
    ctx_id = rig.client.new_context(GenerationSettings()).context_id
    # The SDK's push(text, flush=True): the text and the flush in one frame.
    request = {"context_id": ctx_id, **GenerationSettings().request_fields()}
    await rig.client.send_raw(
        json.dumps({**request, "transcript": "Hi there. ", "continue": True, "flush": True})
    )
    await rig.client.send_raw(
        json.dumps({**request, "transcript": "All good?", "continue": True, "flush": True})
    )
    await rig.client.end(ctx_id)
    assert await wait_settled(rig.session, rig.client, TIMEOUT)
    assert found(rig, LintId.EMPTY_FLUSH) == []


# --- flush-after-end -----------------------------------------------------------------------------


async def test_a_flush_after_the_end_is_found_before_and_after_done(rig_factory: Any) -> None:
    rig = await rig_factory()
    flush = json.dumps({"context_id": "x", "transcript": "", "continue": True, "flush": True})
    # Straight after the end, while the context is still speaking.
    assert await rig.play(f"context a id=x\nsend Hello there.\nend\nraw {flush}\n")
    await rig.until(lambda: rig.session.contexts[0].done_t is not None)
    # And once the server has said done: the session sees a reused context_id.
    await rig.client.send_raw(flush)
    await rig.until(lambda: len(rig.session.contexts) == 2 and rig.session.contexts[1].finished)
    _, end, late, later = send_frames(rig)
    lints = found(rig, LintId.FLUSH_AFTER_END)
    assert [lint.frames for lint in lints] == [(end, late), (end, later)]
    assert all("after it was ended" in lint.message for lint in lints)
    assert AnomalyKind.CONTEXT_REUSED in {a.kind for a in rig.session.anomalies}
    # The late flush is the old context's mistake, not a new context's empty first input.
    assert found(rig, LintId.PUNCTUATION_ONLY_FIRST_INPUT) == []
    assert found(rig, LintId.EMPTY_FLUSH) == []


async def test_a_flush_after_a_cancel_is_found(rig_factory: Any) -> None:
    rig = await rig_factory()
    flush = json.dumps({"context_id": "x", "transcript": "", "continue": True, "flush": True})
    await rig.play(f"context a id=x\nsend Hello there.\ncancel\nraw {flush}\n")
    (lint,) = found(rig, LintId.FLUSH_AFTER_END)
    assert "after it was cancelled" in lint.message


async def test_a_flush_before_the_end_is_fine(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play("context a\nsend Hello there.\nflush\nend\n")
    assert lint_session(rig.session) == []


# --- punctuation-only-first-input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "what"),
    [("send ...\nend", "punctuation only"), ("end", "empty"), ('send " "\nend', "whitespace only")],
)
async def test_a_first_input_without_words_is_found(rig_factory: Any, script: str, what: str) -> None:
    rig = await rig_factory()
    assert await rig.play("context a\n" + script + "\n")
    (lint,) = found(rig, LintId.PUNCTUATION_ONLY_FIRST_INPUT)
    assert lint.frames == (send_frames(rig)[0],)
    assert what in lint.message
    assert_well_formed(lint, rig)
    # The server agrees: it rejected the context.
    assert AnomalyKind.SERVER_ERROR in {a.kind for a in rig.session.anomalies}


async def test_an_end_of_whitespace_after_text_is_fine(rig_factory: Any) -> None:
    rig = await rig_factory()
    # LiveKit's way of ending: a single space with continue false, after a sentence with its own space.
    assert await rig.play(
        'context a id=x\nsend "Hello there. "\nraw {"context_id":"x","transcript":" ","continue":false}\n'
    )
    assert rig.session.contexts[0].state is ContextState.DONE
    assert lint_session(rig.session) == []


# --- settings-changed-mid-context ----------------------------------------------------------------


async def test_a_voice_changed_mid_context_is_found(rig_factory: Any) -> None:
    rig = await rig_factory()
    ctx_id = rig.client.new_context(GenerationSettings()).context_id
    await rig.client.send(ctx_id, "Hello there. ")
    other = dataclasses.replace(GenerationSettings(), voice_id="a0e99841-438c-4a64-b679-ae501e7d6091")
    rig.client.contexts[ctx_id].settings = other
    await rig.client.send(ctx_id, "How are you?")
    await rig.client.end(ctx_id)
    assert await wait_settled(rig.session, rig.client, TIMEOUT)
    (lint,) = found(rig, LintId.SETTINGS_CHANGED_MID_CONTEXT)
    first, second, _ = send_frames(rig)
    assert lint.frames == (first, second)
    assert "The voice of context" in lint.message and "a0e99841" in lint.message
    assert_well_formed(lint, rig)


async def test_bare_ends_and_other_voice_shapes_are_not_a_change(rig_factory: Any) -> None:
    rig = await rig_factory()
    settings = GenerationSettings()
    ctx_id = rig.client.new_context(settings).context_id
    await rig.client.send(ctx_id, "Hello there. ")
    fields = settings.request_fields()
    # The same voice as a bare id (the 4.x SDK's shape), and LiveKit's null language.
    fields.update(voice=settings.voice_id, language=None)
    await rig.client.send_raw(
        json.dumps({"context_id": ctx_id, **fields, "transcript": "Bye.", "continue": True})
    )
    await rig.client.send_raw(json.dumps({"context_id": ctx_id, "transcript": "", "continue": False}))
    assert await wait_settled(rig.session, rig.client, TIMEOUT)
    assert rig.session.contexts[0].state is ContextState.DONE
    assert found(rig, LintId.SETTINGS_CHANGED_MID_CONTEXT) == []


# --- timestamps-missing --------------------------------------------------------------------------


async def test_timestamps_asked_for_and_not_received_are_found(rig_factory: Any) -> None:
    rig = await rig_factory()
    ctx_id = rig.client.new_context(GenerationSettings(add_timestamps=False)).context_id
    await rig.client.send(ctx_id, "Hello there. ")
    await rig.client.flush(ctx_id)
    # The second input asks for timestamps; this server only honours what the first one asked.
    rig.client.contexts[ctx_id].settings = GenerationSettings(add_timestamps=True)
    await rig.client.send(ctx_id, "How are you?")
    await rig.client.flush(ctx_id)
    await rig.client.end(ctx_id)
    assert await wait_settled(rig.session, rig.client, TIMEOUT)
    ctx = rig.session.contexts[0]
    assert all(not s.words for s in ctx.segments)
    lints = found(rig, LintId.TIMESTAMPS_MISSING)
    asking = send_frames(rig)[2]
    assert [(lint.flush_id, lint.frames) for lint in lints] == [
        (1, (asking, rig.session.chunk_frames(ctx.segments[0])[0])),
        (2, (asking, rig.session.chunk_frames(ctx.segments[1])[0])),
    ]
    assert_well_formed(lints[0], rig)


async def test_timestamps_received_or_not_asked_for_are_fine(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play("context a\nsend Hello there.\nend\nset timestamps off\ncontext b\nsend Hi.\nend\n")
    assert rig.session.contexts[0].segments[0].words
    assert not rig.session.contexts[1].segments[0].words
    assert found(rig, LintId.TIMESTAMPS_MISSING) == []


async def test_a_segment_still_speaking_is_not_yet_missing_its_timestamps(rig_factory: Any) -> None:
    rig = await rig_factory()
    ctx_id = rig.client.new_context(GenerationSettings()).context_id
    await rig.client.send(ctx_id, "Hello there, this is a sentence with several words in it.")
    ctx = rig.session
    await rig.until(lambda: ctx.contexts[0].segments[0].chunk_count > 0)
    segment = ctx.contexts[0].segments[0]
    assert segment.state is SegmentState.OPEN
    assert found(rig, LintId.TIMESTAMPS_MISSING, session_over=False) == []


# --- the whole: a clean session, and a capture read back ------------------------------------------


async def test_a_clean_session_has_no_lints_and_a_capture_gives_the_same_ones(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play(
        'context a\nsend "Hello there, and welcome. "\nflush\nsend "How are you today? "\nflush\nend\n'
        "context b\nsend One more context.\nend\n"
    )
    assert lint_session(rig.session) == []
    messy = await rig_factory()
    assert await messy.play(
        "set max_buffer_delay_ms 3000\ncontext a\nsend Hello\nsend world\nflush\nflush\nsend Bye now.\n"
        "flush\nend\ncontext b\nsend Hi.\n"
    )
    live = lint_session(messy.session)
    assert {lint.id for lint in live} == {
        LintId.CONTINUATION_NO_SPACE,
        LintId.SHORT_SEGMENT,
        LintId.EMPTY_FLUSH,
        LintId.CONTEXT_NEVER_ENDED,
    }
    messy.client.recorder.close()
    loaded = rebuild(read_capture(messy.capture).frames)
    assert lint_session(loaded) == live
    assert lint_session(loaded, disabled=["short-segment", LintId.EMPTY_FLUSH]) == [
        lint for lint in live if lint.id not in (LintId.SHORT_SEGMENT, LintId.EMPTY_FLUSH)
    ]
