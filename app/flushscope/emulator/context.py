"""One context on one emulator connection: its inputs in order, buffering, segments, flushes and pacing."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Mapping
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from flushscope.core.inputs.text_buffer import TextBuffer, buffer_delay_s
from flushscope.core.inputs.text_shape import has_words
from flushscope.emulator import errors
from flushscope.emulator.alignment import TimedToken
from flushscope.emulator.config import CancelReply, EmulatorConfig
from flushscope.emulator.espeak import Speech, Synthesizer
from flushscope.emulator.voices import voice_params
from flushscope.protocol.audio import AudioFormat, encode, resample
from flushscope.protocol.messages import GenerationRequest, encode_base64

log = logging.getLogger("flushscope.emulator")

_STATUS_PARTIAL: Final = 206
#: Audio in the oversized-frame fault's chunk: its base64 alone is just over 1 MiB (a multiple of every
#: sample width, so that the audio is still whole samples).
_OVERSIZED_AUDIO_BYTES: Final = (1 << 20) // 4 * 3 + 4


class LinkClosed(Exception):
    """The connection is gone: the context has nobody left to stream to."""


class Link(Protocol):
    """What a context needs from its connection. ``send_frame`` raises :class:`LinkClosed` once it is gone."""

    version: str
    config: EmulatorConfig
    synth: Synthesizer
    #: Chunks sent on the connection so far.
    chunks_sent: int

    async def send_frame(self, obj: dict[str, Any] | str, *, is_chunk: bool = False) -> None: ...

    def context_finished(self, run: ContextRun) -> None: ...


class ContextRun:
    """Plays one context: takes its inputs in order and streams its frames through the connection."""

    def __init__(self, link: Link, context_id: str, first: GenerationRequest, fmt: AudioFormat) -> None:
        self.link = link
        self.context_id = context_id
        self.first = first
        self.format = fmt
        self.voice = voice_params(first)
        config = link.config
        self.buffer_delay_s = buffer_delay_s(first.max_buffer_delay_ms, config.default_buffer_delay_ms)
        self.flush_id = config.flush_id_base
        self.cancelled = False
        #: The last input (continue false) has arrived; the context may still be generating.
        self.input_closed = False
        self.inputs_count = 0
        self.flushes = 0
        self.chunks = 0
        self.audio_seconds = 0.0
        self.outcome = "open"
        self._inputs: asyncio.Queue[tuple[GenerationRequest, float] | None] = asyncio.Queue()
        # Set when a flush request is received, not when it is processed: with the "no flush_id before a
        # flush" switch, frames generated before that moment carry no flush_id.
        self._flush_requested = False
        self._has_text = False
        self._segment_spoken = False
        self._segment_has_chunk = False
        self._next_send = 0.0
        self._last_chunk: str | None = None
        # The late-segment fault: this segment's latest chunk, not sent yet, and the previous segment's last
        # chunk, waiting for this segment's flush_done.
        self._held: str | None = None
        self._late: str | None = None
        # Chunk frames are assembled as text around the base64, which JSON never needs to escape: encoding
        # a 20 KB string through json.dumps costs more than making the audio.
        self._chunk_head = (
            '{"type":"chunk","context_id":' + json.dumps(context_id, ensure_ascii=False)
            + f',"status_code":{_STATUS_PARTIAL},"done":false,"data":"'
        )  # fmt: skip
        self._volume = config_volume(first.generation_config)

    # --- called by the connection -------------------------------------------------------------------------

    def put(self, request: GenerationRequest) -> None:
        self.inputs_count += 1
        if request.is_end:
            self.input_closed = True
        if request.flush:
            self._flush_requested = True
        # The arrival time is when the text was ready: audio of a queued input may start right after the
        # previous one's, as the service generates faster than real time.
        self._inputs.put_nowait((request, asyncio.get_running_loop().time()))

    def cancel(self) -> None:
        """Drop inputs that have not started; what is already streaming finishes."""
        self.cancelled = True
        while not self._inputs.empty():
            self._inputs.get_nowait()
        self._inputs.put_nowait(None)

    async def run(self) -> None:
        try:
            await self._run()
        except LinkClosed:
            self.outcome = "closed"
        except asyncio.CancelledError:
            self.outcome = "closed"
            raise
        finally:
            self.link.context_finished(self)

    # --- the input loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        config = self.link.config
        # Inputs join verbatim in the buffer; what it releases is spoken as one text (see TextBuffer).
        buffer = TextBuffer(self.buffer_delay_s)
        last_audio = loop.time()
        while True:
            if self._inputs.empty():
                timeout = None
                if buffer.deadline is not None:
                    timeout = max(0.0, buffer.deadline - loop.time())
                elif config.context_expiry_s is not None:
                    timeout = max(0.0, last_audio + config.context_expiry_s - loop.time())
                try:
                    item = await (
                        asyncio.wait_for(self._inputs.get(), timeout)
                        if timeout is not None
                        else self._inputs.get()
                    )
                except TimeoutError:
                    if not self._inputs.empty():
                        continue  # an input came in time after all: its arrival decides
                    if (due := buffer.deadline) is not None:
                        # The buffer delay ran out: the waiting text is generated on its own.
                        await self._speak(buffer.release(), due)
                        last_audio = loop.time()
                        continue
                    self.outcome = "expired"
                    await self._send_done()
                    return
            else:
                # Queued while this context was speaking: the arrival time says what the buffer did.
                item = self._inputs.get_nowait()
            if item is None:
                break
            request, received = item
            if not self._has_text and not has_words(request.transcript):
                self.outcome = "error"
                await self.link.send_frame(
                    errors.error_frame(
                        errors.EMPTY_TRANSCRIPT, None, self.context_id, self.link.version
                    ).to_obj()
                )
                return
            self._has_text = True
            if (due := buffer.deadline) is not None and received >= due:
                # Its delay ran out before this input arrived, while an earlier one was being spoken.
                await self._speak(buffer.release(), due)
            ready = buffer.add(request.transcript, received, release_all=request.flush or request.is_end)
            if ready.strip():
                await self._speak(ready, received)
                last_audio = loop.time()
                if config.flush_done_per_input and self.buffer_delay_s <= 0 and not request.flush:
                    await self._close_segment()
            if self.cancelled:
                break
            if request.flush and (self._segment_spoken or not config.flush_done_per_input):
                await self._close_segment()
            if request.is_end:
                self.outcome = "done"
                await self._send_done()
                return
        if self.cancelled:
            self.outcome = "cancelled"
            if config.cancel_reply is CancelReply.DONE:
                await self._send_done()

    # --- output ---------------------------------------------------------------------------------------

    def _frame_flush_id(self) -> int | None:
        if self.link.config.no_flush_id_before_flush and not self._flush_requested:
            return None
        return self.flush_id

    def _base(self, kind: str) -> dict[str, Any]:
        return {"type": kind, "context_id": self.context_id, "status_code": _STATUS_PARTIAL, "done": False}

    async def _send_done(self) -> None:
        for held in (self._late, self._held):
            if held is not None:
                await self.link.send_frame(held, is_chunk=True)
        self._late = self._held = None
        if self.link.config.faults.drop_done:
            return
        frame = self._base("done")
        frame["done"] = True
        await self.link.send_frame(frame)

    async def _close_segment(self) -> None:
        faults = self.link.config.faults
        frame = self._base("flush_done")
        frame.update(data="", flush_id=self.flush_id, flush_done=True)
        await self.link.send_frame(frame)
        self.flushes += 1
        if faults.late_chunk and self._last_chunk is not None:
            await self.link.send_frame(self._last_chunk, is_chunk=True)
        late, self._late, self._held = self._late, self._held, None
        if late is not None:
            await self.link.send_frame(late, is_chunk=True)
        self.flush_id += 2 if faults.skip_flush_id else 1
        self._segment_spoken = self._segment_has_chunk = False
        self._last_chunk = None

    async def _speak(self, text: str, ready: float) -> None:
        """Synthesize ``text`` (ready to speak since loop time ``ready``) and stream it: chunks paced like
        the service, timestamps after the chunk that carries their start."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        speech = await self.link.synth.synthesize_async(text, self.voice)
        data = render(speech, self.format, self._volume)
        synth_ms = (time.perf_counter() - started) * 1000.0
        if not data:
            return
        self._segment_spoken = True
        pacing = self.link.config.pacing
        faults = self.link.config.faults
        chunk_bytes = max(self.format.encoding.sample_width, self.format.bytes_for(pacing.chunk_ms / 1000.0))
        count = -(-len(data) // chunk_bytes)
        interval = (pacing.chunk_ms / 1000.0) / pacing.speedup if pacing.speedup > 0 else 0.0
        at = max(ready + (pacing.first_audio_ms + faults.extra_delay_ms) / 1000.0, self._next_send)
        words = _Cursor(speech.words) if self.first.add_timestamps else None
        phonemes = _Cursor(speech.phonemes) if self.first.add_phoneme_timestamps else None
        offset = self.audio_seconds
        for index in range(count):
            await _sleep_until(loop, at)
            piece = data[index * chunk_bytes : (index + 1) * chunk_bytes]
            flush_id = self._frame_flush_id()
            frame = (
                f'{self._chunk_head}{encode_base64(piece)}","step_time":{round(synth_ms / count + 0.05, 3)}'
                + ("}" if flush_id is None else f',"flush_id":{flush_id}}}')
            )
            await self._send_chunk(frame, first=self.chunks == 0, last=index == count - 1)
            self._last_chunk = frame
            self.chunks += 1
            # The last chunk releases every remaining token. A token can start exactly where the audio ends
            # (espeak-ng gives trailing punctuation a zero-length interval there), and resampling can make
            # the audio slightly shorter than espeak-ng's timeline: either would lose it otherwise.
            heard = self.format.duration((index + 1) * chunk_bytes) if index < count - 1 else math.inf
            if words is not None:
                await self._send_timings("timestamps", "word_timestamps", "words", words.until(heard), offset)
            if phonemes is not None:
                await self._send_timings(
                    "phoneme_timestamps", "phoneme_timestamps", "phonemes", phonemes.until(heard), offset
                )
            at += interval
            if index == 0 and faults.stall_ms:
                # From when the first chunk really went out: the schedule may be behind (slow synthesis,
                # instant pacing), and the stall must still be as long as configured.
                at = max(at, loop.time()) + faults.stall_ms / 1000.0
            if interval == 0.0:
                # Instant pacing still lets other contexts and pings through between chunks.
                await asyncio.sleep(0)
        self._next_send = at
        self.audio_seconds += self.format.duration(len(data))

    async def _send_chunk(self, frame: str, *, first: bool, last: bool) -> None:
        """Send one chunk frame, with what the chunk faults add to it."""
        link = self.link
        faults = link.config.faults
        if self._held is not None:
            # A later chunk of the same segment: the one held back was not the segment's last after all.
            held, self._held = self._held, None
            await link.send_frame(held, is_chunk=True)
        if faults.late_segment and last:
            self._held = frame
        else:
            await link.send_frame(frame, is_chunk=True)
            if faults.duplicate_chunk and not self._segment_has_chunk:
                await link.send_frame(frame, is_chunk=True)
            self._segment_has_chunk = True
            if (
                faults.oversized_after_chunks is not None
                and link.chunks_sent == faults.oversized_after_chunks
            ):
                await link.send_frame(self._oversized(), is_chunk=True)
        if faults.stray_context and first:
            stray = json.loads(frame)
            stray["context_id"] = f"unopened-{self.context_id}"
            await link.send_frame(stray, is_chunk=True)

    def _oversized(self) -> str:
        encoding = self.format.encoding
        silence = encode(np.zeros(_OVERSIZED_AUDIO_BYTES // encoding.sample_width, np.float32), encoding)
        frame = self._base("chunk")
        frame.update(data=encode_base64(silence), step_time=0.0)
        flush_id = self._frame_flush_id()
        if flush_id is not None:
            frame["flush_id"] = flush_id
        return json.dumps(frame, separators=(",", ":"))

    async def _send_timings(
        self, kind: str, field: str, key: str, tokens: list[TimedToken], offset: float
    ) -> None:
        if not tokens:
            return
        frame = self._base(kind)
        flush_id = self._frame_flush_id()
        if flush_id is not None:
            frame["flush_id"] = flush_id
        # Times count from the context's first audio, across inputs and flushes (what frameworks rely on).
        frame[field] = {
            key: [t.text for t in tokens],
            "start": [round(offset + t.start, 4) for t in tokens],
            "end": [round(offset + t.end, 4) for t in tokens],
        }
        await self.link.send_frame(frame)


class _Cursor:
    """Hands out timed tokens in order, those starting before a given time."""

    def __init__(self, tokens: tuple[TimedToken, ...]) -> None:
        self._tokens = tokens
        self._next = 0

    def until(self, seconds: float) -> list[TimedToken]:
        start = self._next
        while self._next < len(self._tokens) and self._tokens[self._next].start < seconds:
            self._next += 1
        return list(self._tokens[start : self._next])


def config_volume(generation_config: Mapping[str, Any] | None) -> float:
    volume = (generation_config or {}).get("volume")
    if isinstance(volume, int | float) and not isinstance(volume, bool):
        return min(max(float(volume), 0.0), 2.0)
    return 1.0


def render(speech: Speech, fmt: AudioFormat, volume: float = 1.0) -> bytes:
    """espeak's int16 at its own rate -> the requested encoding and rate."""
    if speech.samples.size == 0:
        return b""
    samples: npt.NDArray[np.float32] = speech.samples.astype(np.float32) * np.float32(volume / 32768.0)
    samples = resample(samples, speech.sample_rate, fmt.sample_rate)
    return encode(samples, fmt.encoding)


async def _sleep_until(loop: asyncio.AbstractEventLoop, when: float) -> None:
    delay = when - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)
