"""Playback of one segment, or of one context's segments (all of them or a span of their audio), gapless,
while they may still be streaming in.

Qt-free: the GUI wraps a :class:`Player` and calls :meth:`Player.poll` from a timer (about 30 Hz).

Threads. Every public method must be called from the owner's thread (the one thread that runs Qt and
asyncio). The PortAudio callback runs on the audio thread and touches only its :class:`_Track`:
preallocated numpy arrays, integers and one ``threading.Event``. The owner hands audio over by replacing
one tuple ``(buffer, filled, end)`` (a single reference assignment, atomic under the GIL); the callback
reports progress by writing the integer ``pos``, which the owner reads in :meth:`Player.poll`. Buffers grow
in ``poll`` by doubling, never in the callback. The callbacks ``on_position``, ``on_state`` and
``on_error`` are called only from ``poll``, so only ever on the owner's thread.

Reading. The audio stays in the capture file: what plays is read from the session's store, up to
:data:`FIRST_TAKE_BYTES` on the play request (a minute or more of audio, read in a few milliseconds for a
typical segment) and :data:`TAKE_BYTES` on each later poll, far ahead of what is heard; a context played
from the middle is read from the chunk that holds its start. A capture that
cannot be read back stops playback with the reason (``on_error``).

Samples. Audio plays at the segment's own rate, in int16 for ``pcm_s16le`` and float32 for ``pcm_f32le``,
the received bytes copied unchanged into the playback buffer; mu-law and A-law are expanded to int16
through the G.711 tables. A linear fade of :data:`FADE_SECONDS` is applied at the start, at a resume, and
before the end, a pause or a stop, to what is handed to PortAudio (never to the model's bytes); every other
sample is bit-exact.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from flushscope.audio.output import AudioOutput, DeviceInfo, OutputError, OutputStream, default_output
from flushscope.core.model.records import Context, Segment, SegmentState
from flushscope.core.model.session_audio import SessionAudio
from flushscope.core.store.line_storage import StoreError
from flushscope.protocol.audio import AudioFormat, Encoding, alaw_decode, mulaw_decode

__all__ = ["DEFAULT_LATENCY", "FADE_SECONDS", "FIRST_TAKE_BYTES", "TAKE_BYTES", "Player", "PlayerState"]

#: Audio read from the capture when playback starts: 87 s of 24 kHz float audio, more of anything else.
FIRST_TAKE_BYTES = 8 << 20
#: Audio read on each later poll (30 a second): far faster than any playback.
TAKE_BYTES = 1 << 20

#: Length of each fade-in and fade-out.
FADE_SECONDS = 0.004
#: PortAudio's suggested output latency, in seconds. The callback is Python and shares the GIL with the GUI
#: thread, which may hold it for a switch interval (5 ms) at a time; the device's "low" setting (about 9 ms
#: on ALSA) leaves no margin for that, 50 ms does and is still heard as instant. The first samples reach
#: PortAudio within a millisecond of a play request whatever this is.
DEFAULT_LATENCY: float | str = 0.05
# How long a play request waits for the previous stream to fade out and drain before cutting it off.
_HALT_TIMEOUT = 0.25

_MULAW_TABLE = mulaw_decode(np.arange(256, dtype=np.uint8))
_ALAW_TABLE = alaw_decode(np.arange(256, dtype=np.uint8))

# Requests from the owner to the callback.
_RUN = 0
_PAUSE = 1
_STOP = 2


class PlayerState(enum.Enum):
    """What the player is doing."""

    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"


def _segment_final(segment: Segment) -> bool:
    """No more audio will arrive for the segment."""
    return segment.state in (SegmentState.CLOSED, SegmentState.ENDED) or segment.context.finished


class _Source:
    """The chunks to play, in order, and how far they have been taken.

    A context's segments are taken one after another. Live, the walk moves past a segment once it is
    closed, or once a later segment has audio (a context's outputs come in order, so the server has moved
    on); a chunk arriving for a segment already passed is not played."""

    def __init__(
        self, audio: SessionAudio, segments: Sequence[Segment], context: Context | None, live: bool
    ) -> None:
        self._audio = audio
        self._segments = segments
        self._context = context
        self.live = live
        self._index = 0
        self._chunk = 0
        self.complete = False

    def _final(self) -> bool:
        if not self.live:
            return True
        if self._context is not None:
            return self._context.finished
        return _segment_final(self._segments[0])

    def take(self, max_bytes: int = TAKE_BYTES) -> list[bytes]:
        """Chunks not taken yet, about ``max_bytes`` of them at most (read back from the capture); sets
        :attr:`complete` once everything is taken and nothing more can come. StoreError if the capture
        cannot be read."""
        if self.complete:
            return []
        final = self._final()
        segments = self._segments
        taken: list[bytes] = []
        budget = max_bytes
        while self._index < len(segments):
            segment = segments[self._index]
            chunks = len(segment.chunk_rows)
            if self._chunk < chunks:
                plan = self._audio.plan(segment)
                sizes = np.cumsum(plan.nbytes[self._chunk :])
                count = max(1, int(np.searchsorted(sizes, budget, "right")))
                taken.extend(plan.read(self._chunk, self._chunk + count))
                self._chunk += count
                budget -= int(sizes[count - 1])
                if self._chunk < chunks:
                    return taken  # the rest on the next take
            if self._index + 1 >= len(segments):
                break
            if not (final or _segment_final(segment) or self._later_has_audio()):
                break
            self._index += 1
            self._chunk = 0
        self.complete = final
        return taken

    def skip_to(self, position: int) -> int:
        """Start taking at the chunk that holds byte ``position`` of the audio (the segments' audio one after
        another), passing only segments that are complete; returns the byte where taking starts."""
        start = 0
        segments = self._segments
        while self._index < len(segments):
            segment = segments[self._index]
            if start + segment.nbytes > position or self._index + 1 >= len(segments):
                break
            if self.live and not _segment_final(segment):
                return start
            start += segment.nbytes
            self._index += 1
        segment = segments[self._index]
        if not segment.chunk_rows:
            return start
        ends = start + np.cumsum(self._audio.plan(segment).nbytes)
        self._chunk = min(int(np.searchsorted(ends, position, "right")), len(ends) - 1)
        return int(ends[self._chunk - 1]) if self._chunk else start

    def known_bytes(self) -> int:
        """Audio received so far for what this source plays."""
        return sum(s.nbytes for s in self._segments)

    def final(self) -> bool:
        """Nothing more will arrive."""
        return self._final()

    def _later_has_audio(self) -> bool:
        return any(s.nbytes for s in self._segments[self._index + 1 :])


class _Track:
    """One playback: the buffer the callback reads, the callback's counters and its fades."""

    def __init__(self, fmt: AudioFormat, capacity: int, fade: int, limit: int = -1) -> None:
        encoding = fmt.encoding
        self.rate = fmt.sample_rate
        self.dtype = "float32" if encoding is Encoding.PCM_F32LE else "int16"
        self._table: npt.NDArray[np.int16] | None = {
            Encoding.PCM_MULAW: _MULAW_TABLE,
            Encoding.PCM_ALAW: _ALAW_TABLE,
        }.get(encoding)
        # Byte-for-byte copies keep the dtype of the bytes as sent (little-endian); G.711 expands to int16.
        dtype = np.dtype("<f4") if encoding is Encoding.PCM_F32LE else np.dtype("<i2")
        self._width = dtype.itemsize if self._table is None else 1
        self._buffer: npt.NDArray[Any] = np.zeros(max(capacity, 1), dtype)
        self._nbytes = 0  # bytes received (in the received encoding), or skipped at the start
        #: Published to the callback as one reference: buffer, samples filled, end (-1: more may come).
        self.data: tuple[npt.NDArray[Any], int, int] = (self._buffer, 0, -1)
        #: The sample playback ends at, whatever arrives after it (-1: the end of the audio).
        self.limit = limit
        #: Written by the owner, read by the callback: _RUN, _PAUSE or _STOP.
        self.request = _RUN
        # Owned by the callback while the stream runs; the owner writes them only while it is stopped.
        self.pos = 0  # next sample to hand over
        self.origin = 0  # where the current fade-in starts
        self.halt = -1  # where a pause or stop ends this run of blocks
        #: Set on the audio thread when the stream has become inactive.
        self.finished = threading.Event()
        #: Set by the callback when it ran out of audio that has not all arrived; cleared by the owner
        #: when it hands over more.
        self.starved = threading.Event()
        #: perf_counter() when the first samples of audio were handed over (0.0: not yet).
        self.first_audio_t = 0.0
        self.fade = fade
        steps = np.arange(fade, dtype=np.float32)
        self._up = (steps / np.float32(fade)).astype(np.float32)
        self._down = ((np.float32(fade - 1) - steps) / np.float32(fade)).astype(np.float32)
        self._scratch = np.zeros(fade, np.float32)
        self._integer = self.dtype == "int16"

    @property
    def filled(self) -> int:
        return self.data[1]

    @property
    def complete(self) -> bool:
        return self.data[2] >= 0

    # --- owner's thread -----------------------------------------------------------------------------

    def skip(self, nbytes: int) -> None:
        """Leave the first ``nbytes`` (in the received encoding) silent: playback starts after them."""
        self._nbytes = nbytes

    def append(self, chunks: list[bytes], complete: bool) -> None:
        """Copy ``chunks`` after what the buffer holds and publish them (with the end, once complete)."""
        buffer = self._buffer
        if chunks:
            width = self._width
            needed = -(-(self._nbytes + sum(len(c) for c in chunks)) // width)
            if needed > len(buffer):
                grown = np.zeros(max(needed, 2 * len(buffer)), buffer.dtype)
                grown[: len(buffer)] = buffer
                buffer = self._buffer = grown
            if self._table is None:
                raw = buffer.view(np.uint8)
                at = self._nbytes
                for chunk in chunks:
                    raw[at : at + len(chunk)] = np.frombuffer(chunk, np.uint8)
                    at += len(chunk)
                self._nbytes = at
            else:
                table = self._table
                at = self._nbytes
                for chunk in chunks:
                    np.take(table, np.frombuffer(chunk, np.uint8), out=buffer[at : at + len(chunk)])
                    at += len(chunk)
                self._nbytes = at
        filled = self._nbytes // self._width
        end = filled if complete else -1
        if 0 <= self.limit <= filled:
            end = self.limit
        self.data = (buffer, filled, end)
        # Cleared after publishing: a callback that starves in between sets it again on its next block.
        self.starved.clear()

    # --- audio thread -------------------------------------------------------------------------------

    def fill(self, out: npt.NDArray[Any], frames: int) -> bool:
        """The PortAudio callback: the next ``frames`` samples into ``out``; True after the last block."""
        buffer, filled, end = self.data
        pos = self.pos
        halt = self.halt
        if halt < 0 and self.request != _RUN:
            halt = self.halt = min(pos + self.fade, filled)
        stop_at = halt if halt >= 0 else end
        n = (filled if stop_at < 0 else stop_at) - pos
        if n > frames:
            n = frames
        if n > 0:
            out[:n, 0] = buffer[pos : pos + n]
            fade = self.fade
            fade_in_end = self.origin + fade
            if pos < fade_in_end:
                upto = fade_in_end if fade_in_end < pos + n else pos + n
                self._ramp(out, 0, upto - pos, self._up, pos - self.origin)
            if stop_at >= 0 and pos + n > stop_at - fade:
                first = stop_at - fade if stop_at - fade > pos else pos
                self._ramp(out, first - pos, n, self._down, first - (stop_at - fade))
            if self.first_audio_t == 0.0:
                self.first_audio_t = time.perf_counter()
            pos += n
            self.pos = pos
        else:
            n = 0
        if n < frames:
            out[n:] = 0
            # is_set() takes no lock, so a starving stream sets the event once, not on every block.
            if stop_at < 0 and not self.starved.is_set():
                self.starved.set()
        return stop_at >= 0 and pos >= stop_at

    def _ramp(
        self, out: npt.NDArray[Any], first: int, last: int, ramp: npt.NDArray[np.float32], at: int
    ) -> None:
        """Scale ``out[first:last]`` by ``ramp[at:]``."""
        count = last - first
        if count <= 0:
            return
        samples = out[first:last, 0]
        gains = ramp[at : at + count]
        if self._integer:
            scratch = self._scratch[:count]
            np.multiply(samples, gains, out=scratch)
            np.rint(scratch, out=scratch)
            np.copyto(samples, scratch, casting="unsafe")
        else:
            np.multiply(samples, gains, out=samples)


class Player:
    """Plays a segment, or a context's segments gapless, through an :class:`AudioOutput`.

    A segment or context still streaming keeps playing as its audio arrives (``live=True``): when the
    buffer runs dry the output is silent and the position waits until :meth:`poll` brings more; playback
    ends once the segment is closed (or the context finished) and everything was played. Starting while
    something plays stops it first.

    All public methods, and the ``on_*`` callbacks, run on the owner's thread; call :meth:`poll` from it
    about 30 times a second. :meth:`close` releases the device.
    """

    def __init__(
        self,
        output: AudioOutput | None = None,
        *,
        device: int | None = None,
        latency: float | str = DEFAULT_LATENCY,
        fade_seconds: float = FADE_SECONDS,
    ) -> None:
        self._output = output if output is not None else default_output()
        self._device = device
        self._latency = latency
        self._fade_seconds = fade_seconds
        self._state = PlayerState.STOPPED
        self._track: _Track | None = None
        self._stream: OutputStream | None = None
        self._source: _Source | None = None
        self._requested_t = 0.0
        self._last_track: _Track | None = None
        self._position = 0.0
        self._reported_position: float | None = None
        # Streams asked to stop, closed once they have faded out (in poll) or when a new one must open.
        self._retiring: list[tuple[_Track, OutputStream]] = []
        self._events: list[tuple[str, Any]] = []
        #: Called with the position in seconds when it changed since the last poll.
        self.on_position: Callable[[float], None] | None = None
        #: Called with the new :class:`PlayerState`.
        self.on_state: Callable[[PlayerState], None] | None = None
        #: Called with a sentence saying why playback failed or could not start.
        self.on_error: Callable[[str], None] | None = None

    # --- queries ------------------------------------------------------------------------------------

    @property
    def state(self) -> PlayerState:
        return self._state

    @property
    def position(self) -> float:
        """Seconds into what is playing (from the start of the segment or context, not of this play); after
        a stop, where it stopped. Counts samples handed to PortAudio, heard :attr:`latency` later."""
        track = self._track
        if track is None:
            return self._position
        return track.pos / track.rate

    @property
    def duration(self) -> float:
        """Seconds of audio of what is playing that have arrived so far."""
        track = self._track
        return track.filled / track.rate if track is not None else 0.0

    @property
    def buffering(self) -> bool:
        """Whether playback is waiting, silent, for audio that has not arrived yet."""
        track = self._track
        return track is not None and not track.complete and track.starved.is_set()

    @property
    def latency(self) -> float:
        """The open stream's output latency in seconds (0 when none is open)."""
        return self._stream.latency if self._stream is not None else 0.0

    @property
    def underflows(self) -> int:
        """Blocks of the open stream that the device asked for too late (heard as clicks or gaps)."""
        return self._stream.underflows if self._stream is not None else 0

    @property
    def start_latency(self) -> float | None:
        """Seconds from the last play request to its first samples handed to PortAudio (None: not yet)."""
        track = self._last_track
        if track is None or track.first_audio_t == 0.0:
            return None
        return track.first_audio_t - self._requested_t

    @property
    def device(self) -> int | None:
        return self._device

    def set_device(self, index: int | None) -> None:
        """Use output device ``index`` (None: the default) from the next play on."""
        self._device = index

    def devices(self) -> list[DeviceInfo]:
        """Output devices, the default first."""
        return self._output.devices()

    def availability(self) -> tuple[bool, str]:
        """Whether playback can work on the chosen device, and why not in words."""
        return self._output.availability(self._device)

    # --- control ------------------------------------------------------------------------------------

    def play_segment(
        self, audio: SessionAudio, segment: Segment, start: float = 0.0, *, live: bool = True
    ) -> bool:
        """Play ``segment`` from ``start`` seconds, its audio read through its session's ``audio``. ``live``:
        wait for audio still arriving (a session being recorded); pass False for a loaded capture, whose
        unfinished segments never close. Returns whether playback started; on failure ``on_error`` says why."""
        ctx = segment.context
        label = f"segment {segment.label} of context {ctx.title}"
        return self._play(_Source(audio, [segment], None, live), ctx.format, start, label)

    def play_context(
        self,
        audio: SessionAudio,
        context: Context,
        start: float = 0.0,
        end: float | None = None,
        *,
        live: bool = True,
    ) -> bool:
        """Play ``context``'s segments in order, gapless, from ``start`` seconds into its audio up to ``end``
        seconds (None: to the end of its audio, waiting for more while ``live``); its audio read through its
        session's ``audio``."""
        label = f"context {context.title}"
        return self._play(_Source(audio, context.segments, context, live), context.format, start, label, end)

    def pause(self) -> None:
        """Fade out and hold the position; :meth:`resume` continues from there."""
        if self._state is not PlayerState.PLAYING or self._track is None:
            return
        self._track.request = _PAUSE
        self._set_state(PlayerState.PAUSED)

    def resume(self) -> None:
        """Continue a paused playback, fading in."""
        track, stream = self._track, self._stream
        if self._state is not PlayerState.PAUSED or track is None or stream is None:
            return
        # Stopping first makes sure the callback is idle before its counters are touched; the paused
        # stream has normally ended by itself already, and then this returns at once.
        stream.stop()
        track.finished.clear()
        track.halt = -1
        track.origin = track.pos
        track.request = _RUN
        try:
            stream.start()
        except OutputError as exc:
            track.finished.set()  # it never started: nothing to wait for before closing it
            self._fail(str(exc))
            return
        self._set_state(PlayerState.PLAYING)

    def stop(self) -> None:
        """Fade out and stop. The device is released by a later :meth:`poll` (or the next play)."""
        if self._track is None:
            return
        self._retire()
        self._set_state(PlayerState.STOPPED)

    def close(self) -> None:
        """Stop and release the device at once."""
        self.stop()
        self._reap(wait=True)

    def input_ended(self) -> None:
        """The recording stopped: what plays now ends with the audio it has instead of waiting for more."""
        if self._source is not None:
            self._source.live = False

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until the stream has stopped by itself (the audio ended, or a pause took effect); True
        unless the timeout passed. Meant for tests and command-line tools; :meth:`poll` then reports."""
        track = self._track
        return True if track is None else track.finished.wait(timeout)

    def wait_starved(self, timeout: float | None = None) -> bool:
        """Block until playback has handed over all the audio it has and waits for more (see
        :attr:`buffering`); True unless the timeout passed. For tests and command-line tools."""
        track = self._track
        return False if track is None else track.starved.wait(timeout)

    def poll(self) -> None:
        """Move newly arrived audio into the playback buffer, notice the end of playback, release stopped
        streams, and call the ``on_*`` callbacks with what changed since the last poll."""
        self._reap(wait=False)
        track, stream, source = self._track, self._stream, self._source
        if track is not None and stream is not None and source is not None:
            if not track.complete:
                try:
                    chunks = source.take()
                except StoreError as exc:
                    self._fail(f"playback stopped: {exc}")
                    self._deliver()
                    return
                if chunks or source.complete:
                    track.append(chunks, source.complete)
            if self._state is PlayerState.PLAYING and track.finished.is_set():
                failure = stream.failure
                if failure:
                    self._fail(failure)
                elif track.complete and track.pos >= track.data[2]:
                    self._position = track.pos / track.rate
                    self._queue_position()
                    self._release()
                    self._set_state(PlayerState.STOPPED)
                else:
                    self._fail("the audio device stopped the stream before the end")
        self._queue_position()
        self._deliver()

    # --- internals ----------------------------------------------------------------------------------

    def _play(
        self, source: _Source, fmt: AudioFormat | None, start: float, label: str, end: float | None = None
    ) -> bool:
        requested = time.perf_counter()
        if self._track is not None:
            self._retire()
            self._set_state(PlayerState.STOPPED)
        self._reap(wait=True)
        if fmt is None:
            self._error(f"cannot play {label}: its output format is not known")
            return False
        if end is not None and end <= start:
            self._error(f"cannot play {label} from {start:.3f} s to {end:.3f} s: the span is empty")
            return False
        first = max(0, round(start * fmt.sample_rate))
        skipped = source.skip_to(first * fmt.sample_width) if first else 0
        try:
            chunks = source.take(FIRST_TAKE_BYTES)
        except StoreError as exc:
            self._error(f"cannot play {label}: {exc}")
            return False
        samples = source.known_bytes() // fmt.sample_width
        # Room for a live segment to grow for a while before poll has to reallocate.
        capacity = samples if source.final() else max(2 * samples, 10 * fmt.sample_rate)
        limit = -1 if end is None else round(end * fmt.sample_rate)
        track = _Track(fmt, capacity, max(1, round(self._fade_seconds * fmt.sample_rate)), limit)
        track.skip(skipped)
        track.append(chunks, source.complete)
        if track.complete and track.filled == 0:
            self._error(f"cannot play {label}: it has no audio")
            return False
        if track.complete:
            first = min(first, track.data[2])
        track.pos = track.origin = first
        try:
            stream = self._output.open(
                samplerate=fmt.sample_rate,
                dtype=track.dtype,
                device=self._device,
                callback=track.fill,
                on_finished=track.finished.set,
                latency=self._latency,
            )
        except OutputError as exc:
            self._error(str(exc))
            return False
        try:
            stream.start()
        except OutputError as exc:
            stream.close()
            self._error(str(exc))
            return False
        self._track, self._stream, self._source = track, stream, source
        self._last_track = track
        self._requested_t = requested
        self._set_state(PlayerState.PLAYING)
        return True

    def _retire(self) -> None:
        """Ask the current stream to fade out; it is closed once it has."""
        track, stream = self._track, self._stream
        if track is not None:
            self._position = track.pos / track.rate
            track.request = _STOP
        if track is not None and stream is not None:
            self._retiring.append((track, stream))
        self._track = self._stream = self._source = None

    def _release(self) -> None:
        """Close the current stream, which has already ended."""
        stream = self._stream
        self._track = self._stream = self._source = None
        if stream is not None:
            stream.close()

    def _reap(self, *, wait: bool) -> None:
        still: list[tuple[_Track, OutputStream]] = []
        for track, stream in self._retiring:
            if wait and not track.finished.wait(_HALT_TIMEOUT + stream.latency):
                stream.abort()
            if wait or track.finished.is_set():
                stream.close()
            else:
                still.append((track, stream))
        self._retiring = still

    def _fail(self, text: str) -> None:
        self._retire()
        self._set_state(PlayerState.STOPPED)
        self._error(text)

    def _set_state(self, state: PlayerState) -> None:
        if state is not self._state:
            self._state = state
            self._events.append(("state", state))

    def _error(self, text: str) -> None:
        self._events.append(("error", text))

    def _queue_position(self) -> None:
        position = self.position
        if position != self._reported_position:
            self._reported_position = position
            self._events.append(("position", position))

    def _deliver(self) -> None:
        events, self._events = self._events, []
        for kind, value in events:
            if kind == "state" and self.on_state is not None:
                self.on_state(value)
            elif kind == "position" and self.on_position is not None:
                self.on_position(value)
            elif kind == "error" and self.on_error is not None:
                self.on_error(value)
