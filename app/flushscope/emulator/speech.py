"""Real speech for the embedded emulator: espeak-ng through ctypes, with word and phoneme timings.

libespeak-ng (shipped by the ``espeakng-loader`` wheel together with its data) is one engine with global
state per process and is not thread-safe, so every call into it happens on a single worker thread owned by
a process-wide :class:`_Engine`. Audio comes back as int16 mono at espeak-ng's native 22050 Hz; words echo
the transcript's own whitespace tokens so that a client can align them with what it sent.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import os
import re
import threading
import unicodedata
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any, Final

import espeakng_loader
import numpy as np
import numpy.typing as npt

#: The rate espeak-ng synthesizes at; it never resamples.
SAMPLE_RATE: Final = 22050
#: The espeak-ng voice used when a language is missing or unknown.
DEFAULT_VOICE: Final = "en-us"
DEFAULT_PITCH: Final = 50
DEFAULT_RATE: Final = 175
DEFAULT_RANGE: Final = 50

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


# --- voices ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceParams:
    """What espeak-ng is told for one Cartesia voice: its voice name, pitch and rate."""

    espeak_voice: str
    """An espeak-ng voice name such as ``"en-us"``, ``"de"``, ``"fr"``, ``"es-419"``."""
    pitch: int
    """Base pitch, 0..100 (espeak-ng's default is 50)."""
    rate: int
    """Speaking rate in words per minute, around 175; espeak-ng accepts 80..450."""
    range: int
    """Pitch range, 0..100: 0 is a monotone, 50 is espeak-ng's default."""


def voice_for(voice_id: str | None, language: str | None) -> VoiceParams:
    """Map a Cartesia voice id and language code to espeak-ng settings, deterministically.

    Pitch, range and rate come from a SHA-256 of the id (stable across processes, unlike ``hash()``), so the
    same id always sounds the same and different ids usually differ audibly in all three. ``language``
    accepts codes such as ``"en"``, ``"en-US"``, ``"es-MX"``, ``"pt_BR"``, ``"zh"``; a regional code falls
    back to its base language, and anything espeak-ng does not ship (or None) to ``"en-us"``.
    """
    name = espeak_voice_for_language(language)
    if voice_id is None:
        return VoiceParams(name, DEFAULT_PITCH, DEFAULT_RATE, DEFAULT_RANGE)
    digest = hashlib.sha256(voice_id.encode("utf-8", "surrogatepass")).digest()
    return VoiceParams(
        espeak_voice=name,
        pitch=20 + digest[0] * 61 // 256,  # 20..80
        rate=160 + digest[1] * 31 // 256,  # 160..190
        range=25 + digest[2] * 61 // 256,  # 25..85
    )


def espeak_voice_for_language(language: str | None) -> str:
    """The espeak-ng voice name for a BCP 47-ish language code, or :data:`DEFAULT_VOICE`."""
    if not language:
        return DEFAULT_VOICE
    code = language.strip().lower().replace("_", "-")
    table = _language_table()
    while code:
        # Cartesia's "en" is American English; espeak-ng's is British.
        if code == "en":
            return DEFAULT_VOICE
        if code in table:
            return table[code]
        code = code.rpartition("-")[0]
    return DEFAULT_VOICE


@lru_cache(maxsize=1)
def _language_table() -> dict[str, str]:
    """Language code -> voice name, read from the voice files under espeak-ng's ``lang`` directory.

    Each file names its languages with a priority (``language es-mx 6``; lower wins, 5 when omitted), and
    its own file name is a voice name espeak_SetVoiceByName accepts. Voices whose dictionary the data
    lacks are left out: espeak-ng would load them but speak nothing useful.
    """
    try:
        data = espeakng_loader.get_data_path()
    except RuntimeError:
        return {}
    root = os.path.join(data, "lang")
    best: dict[str, tuple[int, str, str]] = {}
    for directory, _dirs, files in sorted(os.walk(root)):
        for file in sorted(files):
            path = os.path.join(directory, file)
            parsed = _read_voice_file(path)
            if parsed is None:
                continue
            dictionary, languages = parsed
            name = file.lower()
            if not os.path.exists(os.path.join(data, f"{dictionary or name.split('-')[0]}_dict")):
                continue
            order = os.path.relpath(path, root)
            # A voice's own name beats any language another voice merely claims.
            for code, priority in [(name, -1), *languages]:
                candidate = (priority, order, name)
                if code not in best or candidate < best[code]:
                    best[code] = candidate
    return {code: name for code, (_priority, _order, name) in best.items()}


def _read_voice_file(path: str) -> tuple[str | None, list[tuple[str, int]]] | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    dictionary: str | None = None
    languages: list[tuple[str, int]] = []
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "language":
            priority = int(words[2]) if len(words) >= 3 and words[2].isdigit() else 5
            languages.append((words[1].lower(), priority))
        elif len(words) >= 2 and words[0] == "dictionary":
            dictionary = words[1].lower()
    return dictionary, languages


# --- results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimedToken:
    """One word (or phoneme) and where it sounds, in seconds from the start of this synthesis."""

    text: str
    start: float
    end: float


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
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


def _frozen(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    samples.flags.writeable = False
    return samples


def _empty_speech() -> Speech:
    return Speech(_frozen(np.zeros(0, dtype=np.int16)), SAMPLE_RATE, (), ())


_TOKEN = re.compile(r"\S+")
# Punctuation espeak-ng does not pronounce (by default). The other "Po" characters, such as & % # @ / *,
# are read as words.
_SILENT_CATEGORIES: Final = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf"})
_SILENT_MARKS: Final = frozenset(".,;:!?¡¿…‥·'\"‚„‹›«»、。，．：；！？")


def _is_silent(token: str) -> bool:
    return all(c in _SILENT_MARKS or unicodedata.category(c) in _SILENT_CATEGORIES for c in token)


def _align_words(
    text: str, events: Sequence[tuple[int, int]], total: int, rate: int
) -> tuple[TimedToken, ...]:
    """Time every whitespace token of ``text`` from espeak-ng's word events.

    ``events`` are (1-based character position, sample) pairs. An event belongs to the token containing its
    position, or to the token before it when the position is in whitespace (espeak-ng puts the second word
    of an emoji's name there). A word after silent punctuation (``a - b``) is reported at the punctuation,
    so such an event moves on to the next pronounced token. Events never move backwards, and several in
    one token merge.

    A token without an event was spoken inside the previous timed token's interval (``U.S.A. e-mail``,
    ``A & B``) or not at all (``a - b``): pronounced ones split that interval with it in proportion to
    their lengths, silent ones get a zero-length interval where they stand.
    """
    matches = list(_TOKEN.finditer(text))
    if not matches:
        return ()
    tokens = [m.group() for m in matches]
    starts = [m.start() for m in matches]
    silent = [_is_silent(token) for token in tokens]
    pronounced_after: list[int | None] = [None] * len(tokens)
    following: int | None = None
    for k in range(len(tokens) - 1, -1, -1):
        pronounced_after[k] = following
        if not silent[k]:
            following = k

    timed: dict[int, int] = {}  # token index -> sample where it starts, in token order
    current = 0
    floor = 0
    for position, sample in events:
        index = min(max(position - 1, 0), len(text) - 1)
        k = max(current, bisect_right(starts, index) - 1)
        if silent[k] and (later := pronounced_after[k]) is not None:
            k = later
        current = k
        if k not in timed:
            floor = min(max(sample, floor), total)
            timed[k] = floor

    # (first token, end token, start sample, end sample) for runs of tokens sharing one interval
    groups: list[tuple[int, int, int, int]]
    if not timed:
        groups = [(0, len(tokens), 0, total)]
    else:
        anchors = list(timed)
        bounds = [*timed.values(), total]
        groups = [(0, anchors[0], bounds[0], bounds[0])]
        for n, k in enumerate(anchors):
            stop = anchors[n + 1] if n + 1 < len(anchors) else len(tokens)
            groups.append((k, stop, bounds[n], bounds[n + 1]))

    words: list[TimedToken] = []
    for lo, hi, begin, finish in groups:
        weights = [0 if silent[k] else len(tokens[k]) for k in range(lo, hi)]
        if lo < hi and not any(weights):
            weights = [len(tokens[k]) for k in range(lo, hi)]
        whole = sum(weights) or 1
        done = 0
        for k, weight in zip(range(lo, hi), weights, strict=True):
            a = begin + (finish - begin) * done // whole
            done += weight
            b = begin + (finish - begin) * done // whole
            words.append(TimedToken(tokens[k], a / rate, b / rate))
    return tuple(words)


def _align_phonemes(events: Sequence[tuple[int, str]], total: int, rate: int) -> tuple[TimedToken, ...]:
    """Time phoneme events: each lasts until the next one (pauses included) or the end of the audio."""
    samples: list[int] = []
    floor = 0
    for sample, _name in events:
        floor = min(max(sample, floor), total)
        samples.append(floor)
    samples.append(total)
    return tuple(
        TimedToken(name, samples[i] / rate, samples[i + 1] / rate)
        for i, (_sample, name) in enumerate(events)
        if name.strip()
    )


# --- the engine --------------------------------------------------------------------------------------


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


class _Engine:
    """The process's espeak-ng and the one thread allowed to call it.

    Everything but :meth:`submit`, :meth:`shutdown` and ``executor`` runs on the worker thread, so the
    fields need no lock. espeak-ng carries pitch-flutter state from one utterance to the next, which makes
    a repeated request come out a few samples different; finished results are therefore kept (bounded by
    :data:`_CACHE_MAX_SAMPLES`) and an identical request gets identical audio.
    """

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak-ng")
        self.users = 0
        self._lib: Any = None
        self._rate = SAMPLE_RATE
        self._voice: str | None = None
        self._callback = _SynthCallback(self._on_synth)
        self._blocks: list[npt.NDArray[np.int16]] = []
        self._words: list[tuple[int, int]] = []
        self._phonemes: list[tuple[int, str]] = []
        self._error: BaseException | None = None
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
        self._blocks, self._words, self._phonemes, self._error = [], [], [], None
        try:
            status = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if self._error is not None:
                raise self._error
            if status != 0:
                raise RuntimeError(f"espeak_Synth failed with status {status}")
            samples = np.concatenate(self._blocks) if self._blocks else np.zeros(0, dtype=np.int16)
            total = len(samples)
            return Speech(
                samples=_frozen(samples),
                sample_rate=self._rate,
                words=_align_words(text, self._words, total, self._rate),
                phonemes=_align_phonemes(self._phonemes, total, self._rate),
            )
        finally:
            self._blocks, self._words, self._phonemes, self._error = [], [], [], None

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
        # An exception escaping a ctypes callback is only printed, so keep it for _synthesize to raise,
        # and return 1 to stop the synthesis.
        try:
            if count > 0 and wav:
                self._blocks.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16, copy=True))
            if events:
                i = 0
                while (event := events[i]).type != _EVENT_LIST_TERMINATED:
                    if event.type == _EVENT_WORD:
                        self._words.append((event.text_position, event.sample))
                    elif event.type == _EVENT_PHONEME:
                        # The name fills char[8] with no terminator when it is 8 bytes long, and may
                        # then end inside a UTF-8 sequence.
                        name = event.id.string.decode("utf-8", "ignore")
                        self._phonemes.append((event.sample, name))
                    i += 1
            return 0
        except BaseException as exc:
            self._error = exc
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
