"""espeak-ng itself: the library through ctypes, its one worker thread, and :class:`Synthesizer`.

libespeak-ng (shipped by the ``espeakng-loader`` wheel together with its data) is one engine with global
state per process and is not thread-safe, so every call into it happens on a single worker thread owned by
a process-wide :class:`_Engine`; an event loop awaits the result without blocking. Audio comes back as
int16 mono at espeak-ng's native 22050 Hz, with the word and phoneme timings of :mod:`.alignment`.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

import espeakng_loader
import numpy as np
import numpy.typing as npt

from flushscope.emulator.alignment import TimedToken, align_phonemes, align_words
from flushscope.emulator.voices import VoiceParams

#: The rate espeak-ng synthesizes at; it never resamples.
SAMPLE_RATE: Final = 22050

# From espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS: Final = 2
_INITIALIZE_PHONEME_EVENTS: Final = 0x0001
_INITIALIZE_PHONEME_IPA: Final = 0x0002
# Without it espeak_Initialize calls exit() when its data is missing.
_INITIALIZE_DONT_EXIT: Final = 0x8000
_POS_CHARACTER: Final = 1
_CHARS_UTF8: Final = 1
_EVENT_LIST_TERMINATED: Final = 0
_EVENT_WORD: Final = 1
_EVENT_PHONEME: Final = 7
_PARAM_RATE: Final = 1
_PARAM_PITCH: Final = 3
_PARAM_RANGE: Final = 4
# espeak-ng's own limits for the rate; pitch and range are percentages.
_RATE_MIN: Final = 80
_RATE_MAX: Final = 450
# Milliseconds of audio per callback: fewer, larger blocks to concatenate.
_BUFFER_MS: Final = 200

# Upper bound, in samples, of the audio kept for repeated requests (about 6 minutes, 16 MB).
_CACHE_MAX_SAMPLES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Speech:
    """The audio and timing espeak-ng produced for one transcript.

    ``samples`` is read-only: identical requests may share one array.
    """

    samples: npt.NDArray[np.int16]
    sample_rate: int
    words: tuple[TimedToken, ...]
    """The transcript's whitespace-separated tokens, each exactly once, in order, punctuation kept."""
    phonemes: tuple[TimedToken, ...]
    """IPA phonemes as espeak-ng names them (stress marks included), pauses left out."""

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


def _frozen(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    samples.flags.writeable = False
    return samples


def _empty_speech() -> Speech:
    return Speech(_frozen(np.zeros(0, dtype=np.int16)), SAMPLE_RATE, (), ())


# --- the library -------------------------------------------------------------------------------------


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    )


class _Event(ctypes.Structure):
    """espeak_EVENT: six 32-bit fields, then a pointer and a pointer-sized union (40 bytes on LP64)."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


def _load_library() -> Any:
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.POINTER(ctypes.c_uint),
        ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Terminate.argtypes = []
    lib.espeak_Terminate.restype = ctypes.c_int
    return lib


class _Utterance:
    """What espeak-ng's callback hands over during one synthesis, on the worker thread: audio blocks, word
    events as (character position, sample), phoneme events as (sample, name), and an error if the callback
    failed."""

    __slots__ = ("blocks", "error", "phonemes", "words")

    def __init__(self) -> None:
        self.blocks: list[npt.NDArray[np.int16]] = []
        self.words: list[tuple[int, int]] = []
        self.phonemes: list[tuple[int, str]] = []
        self.error: BaseException | None = None

    def add_block(self, samples: npt.NDArray[np.int16]) -> None:
        """Keep one block of audio, a copy that no longer points into espeak-ng's buffer."""
        self.blocks.append(samples)

    def speech(self, text: str, rate: int) -> Speech:
        """The whole audio of ``text`` and its timings."""
        samples = np.concatenate(self.blocks) if self.blocks else np.zeros(0, dtype=np.int16)
        total = len(samples)
        return Speech(
            samples=_frozen(samples),
            sample_rate=rate,
            words=align_words(text, self.words, total, rate),
            phonemes=align_phonemes(self.phonemes, total, rate),
        )


# --- the engine --------------------------------------------------------------------------------------


class _Engine:
    """The process's espeak-ng and the one thread allowed to call it.

    Everything but :meth:`shutdown` and ``executor`` runs on the worker thread, so the fields need no lock.
    espeak-ng carries pitch-flutter state from one utterance to the next, which makes a repeated request
    come out a few samples different; finished results are therefore kept (bounded by
    :data:`_CACHE_MAX_SAMPLES`) and an identical request gets identical audio.
    """

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak-ng")
        self.users = 0
        self._lib: Any = None
        self._rate = SAMPLE_RATE
        self._voice: str | None = None
        self._callback = _SynthCallback(self._on_synth)
        self._utterance: _Utterance | None = None
        self._cache: OrderedDict[tuple[str, VoiceParams], Speech] = OrderedDict()
        self._cached_samples = 0

    def shutdown(self) -> None:
        self.executor.submit(self._terminate)
        self.executor.shutdown(wait=True)

    def synthesize(self, text: str, voice: VoiceParams) -> Speech:
        key = (text, voice)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        speech = self._synthesize(text, voice)
        self._remember(key, speech)
        return speech

    def _remember(self, key: tuple[str, VoiceParams], speech: Speech) -> None:
        size = len(speech.samples)
        if size > _CACHE_MAX_SAMPLES:
            return
        self._cache[key] = speech
        self._cached_samples += size
        while self._cached_samples > _CACHE_MAX_SAMPLES:
            _key, old = self._cache.popitem(last=False)
            self._cached_samples -= len(old.samples)

    def _synthesize(self, text: str, voice: VoiceParams) -> Speech:
        lib = self._loaded()
        self._select(lib, voice)
        # NUL would end the C string early; "replace" turns each lone surrogate into one "?", which keeps
        # espeak-ng's character positions equal to Python's.
        data = text.replace("\0", " ").encode("utf-8", "replace") + b"\0"
        utterance = self._utterance = _Utterance()
        try:
            status = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        finally:
            self._utterance = None
        if utterance.error is not None:
            raise utterance.error
        if status != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status}")
        return utterance.speech(text, self._rate)

    def _loaded(self) -> Any:
        if self._lib is None:
            lib = _load_library()
            options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
            data = espeakng_loader.get_data_path().encode()
            rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data, options)
            if rate <= 0:
                raise RuntimeError(f"espeak-ng failed to initialize (status {rate}) with data at {data!r}")
            lib.espeak_SetSynthCallback(self._callback)
            self._lib, self._rate, self._voice = lib, rate, None
        return self._lib

    def _select(self, lib: Any, voice: VoiceParams) -> None:
        if voice.espeak_voice != self._voice:
            # A failed change can leave espeak-ng between voices: forget the last one either way.
            self._voice = None
            if lib.espeak_SetVoiceByName(voice.espeak_voice.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice named {voice.espeak_voice!r}")
            self._voice = voice.espeak_voice
        lib.espeak_SetParameter(_PARAM_RATE, min(max(voice.rate, _RATE_MIN), _RATE_MAX), 0)
        lib.espeak_SetParameter(_PARAM_PITCH, min(max(voice.pitch, 0), 100), 0)
        lib.espeak_SetParameter(_PARAM_RANGE, min(max(voice.range, 0), 100), 0)

    def _on_synth(self, wav: Any, count: int, events: Any) -> int:
        utterance = self._utterance
        if utterance is None:
            return 1
        # An exception escaping a ctypes callback is only printed, so keep it for _synthesize to raise,
        # and return 1 to stop the synthesis.
        try:
            if count > 0 and wav:
                utterance.add_block(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16, copy=True))
            if events:
                i = 0
                while (event := events[i]).type != _EVENT_LIST_TERMINATED:
                    if event.type == _EVENT_WORD:
                        utterance.words.append((event.text_position, event.sample))
                    elif event.type == _EVENT_PHONEME:
                        # The name fills char[8] with no terminator when it is 8 bytes long, and may
                        # then end inside a UTF-8 sequence.
                        name = event.id.string.decode("utf-8", "ignore")
                        utterance.phonemes.append((event.sample, name))
                    i += 1
            return 0
        except BaseException as exc:
            utterance.error = exc
            return 1

    def _terminate(self) -> None:
        self._cache.clear()
        self._cached_samples = 0
        if self._lib is not None:
            self._lib.espeak_Terminate()
            self._lib = None


_engine_lock = threading.Lock()
_engine: _Engine | None = None


def _acquire_engine() -> _Engine:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        _engine.users += 1
        return _engine


def _release_engine(engine: _Engine) -> None:
    global _engine
    # Shutting down under the lock keeps a new engine from starting to call espeak-ng while the old
    # worker may still be inside it.
    with _engine_lock:
        engine.users -= 1
        if engine.users > 0:
            return
        if _engine is engine:
            _engine = None
        engine.shutdown()


class Synthesizer:
    """One handle on espeak-ng: turns a transcript and voice into :class:`Speech`.

    libespeak-ng is one engine with global state per process and is not thread-safe. All instances in a
    process therefore share one lazily created engine and its single worker thread
    (a ``ThreadPoolExecutor(max_workers=1)``), which serializes every call into the library; the engine
    is reference-counted and shut down (``espeak_Terminate`` on its thread) when the last instance
    closes. Any thread and any asyncio loop may use any instance.

    Identical requests (same text and :class:`VoiceParams`) return identical audio for as long as the
    engine keeps the earlier result, which is bounded to a few minutes of audio.
    """

    def __init__(self) -> None:
        self._engine = _acquire_engine()
        self._lock = threading.Lock()
        self._closed = False

    def synthesize(self, text: str, voice: VoiceParams) -> Speech:
        """Synthesize ``text``, blocking until the worker thread is done with it."""
        engine = self._open_engine()
        if not text.strip():
            return _empty_speech()
        return engine.executor.submit(engine.synthesize, text, voice).result()

    async def synthesize_async(self, text: str, voice: VoiceParams) -> Speech:
        """Synthesize ``text`` on the worker thread without blocking the running event loop."""
        engine = self._open_engine()
        if not text.strip():
            return _empty_speech()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(engine.executor, engine.synthesize, text, voice)

    def close(self) -> None:
        """Release the shared engine; the last instance to close shuts it down. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _release_engine(self._engine)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _open_engine(self) -> _Engine:
        if self._closed:
            raise RuntimeError("Synthesizer is closed")
        return self._engine

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
