"""espeak-ng speech for the emulator: audio, word and phoneme timings, voices, threads and asyncio.

The mapping of voices and the alignment of timings are tested on their own in test_voices.py and
test_alignment.py; here espeak-ng really speaks."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from flushscope.emulator import espeak
from flushscope.emulator.alignment import TimedToken
from flushscope.emulator.espeak import SAMPLE_RATE, Speech, Synthesizer
from flushscope.emulator.voices import DEFAULT_VOICE, VoiceParams, voice_for

ALICE = "a0e99841-438c-4a64-b679-ae501e7d6091"
BOB = "694f9389-aac1-45b6-b726-9d9369183238"
DEFAULT = voice_for(None, None)
#: A safety net for a wait on another thread; never the thing a test measures.
WAIT_LIMIT = 30.0

PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog, while the patient tortoise keeps walking along the "
    "dusty road. Nobody expected the race to last until sunset; still, the crowd cheered louder with "
    "every step. At 6:45 p.m. the judges - tired but happy - finally declared a winner, and everyone "
    "went home to tell the story again and again."
)


@pytest.fixture
def synth() -> Iterator[Synthesizer]:
    with Synthesizer() as s:
        yield s


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def assert_well_timed(tokens: Sequence[TimedToken], duration: float) -> None:
    for previous, token in itertools.pairwise(tokens):
        assert previous.start <= token.start, (previous, token)
        assert previous.end <= token.end, (previous, token)
        assert previous.end <= token.start + 1e-9, (previous, token)
    for token in tokens:
        assert 0.0 <= token.start <= token.end <= duration + 1e-9, token


# --- audio -------------------------------------------------------------------------------------------


def test_a_sentence_produces_audible_speech(synth: Synthesizer) -> None:
    result = synth.synthesize("Hello there, how are you today?", DEFAULT)

    assert isinstance(result, Speech)
    assert result.sample_rate == SAMPLE_RATE == 22050
    assert result.samples.dtype == np.int16
    assert result.samples.ndim == 1
    assert 1.0 < result.duration < 4.0
    assert result.duration == pytest.approx(len(result.samples) / 22050)
    assert rms(result.samples) > 500.0


def test_samples_are_read_only(synth: Synthesizer) -> None:
    result = synth.synthesize("Shared audio must not change.", DEFAULT)

    with pytest.raises(ValueError):
        result.samples[0] = 1


@pytest.mark.parametrize("text", ["", " ", "   \n\t  "])
def test_blank_text_gives_empty_speech_without_espeak(
    synth: Synthesizer, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    def fail(*args: object) -> Speech:
        raise AssertionError("espeak-ng was called")

    monkeypatch.setattr(espeak._Engine, "synthesize", fail)
    result = synth.synthesize(text, DEFAULT)

    assert len(result.samples) == 0
    assert result.samples.dtype == np.int16
    assert result.sample_rate == SAMPLE_RATE
    assert result.words == ()
    assert result.phonemes == ()
    assert result.duration == 0.0


# --- words -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Hello, world!",
        "café über, Hello world! - ... ok",
        "naïve façade, déjà vu: Straße.",
        "Hi (there) \"friend\" 'ok'",
        "It costs $3.50 on 12/05/2024.",
        "U.S.A. e-mail don't",
        "A & B, 100% of #tags @you",
        "😀 x 中文 y",
        "a - b -- c ... d",
        "  - leading dash and trailing dots ...",
        "line one\nline two\r\nthree\ttab",
        "...",
        "?!",
    ],
)
def test_words_are_the_transcript_tokens(synth: Synthesizer, text: str) -> None:
    result = synth.synthesize(text, DEFAULT)

    assert [w.text for w in result.words] == text.split()
    assert_well_timed(result.words, result.duration)


def test_each_word_starts_where_it_is_spoken(synth: Synthesizer) -> None:
    result = synth.synthesize("Hello there, how are you today?", DEFAULT)

    starts = [w.start for w in result.words]
    assert starts[0] == 0.0
    assert all(a < b for a, b in itertools.pairwise(starts))
    assert result.words[-1].end == pytest.approx(result.duration)
    # Every word gets a real share of the audio.
    assert all(w.end - w.start > 0.05 for w in result.words)


def test_character_positions_survive_multibyte_utf8(synth: Synthesizer) -> None:
    # Byte offsets would put "world" inside "über" and leave later words unmatched.
    result = synth.synthesize("café über naïve world", DEFAULT)

    assert [w.text for w in result.words] == ["café", "über", "naïve", "world"]
    assert all(w.end > w.start for w in result.words)


def test_silent_punctuation_gets_no_time_of_its_own(synth: Synthesizer) -> None:
    result = synth.synthesize("alpha - beta", DEFAULT)

    alpha, dash, beta = result.words
    assert dash.start == dash.end == beta.start
    assert alpha.end == beta.start
    assert beta.end - beta.start > 0.1


def test_a_long_paragraph_maps_every_token(synth: Synthesizer) -> None:
    tokens = PARAGRAPH.split()
    assert len(tokens) >= 60

    result = synth.synthesize(PARAGRAPH, DEFAULT)

    assert [w.text for w in result.words] == tokens
    assert_well_timed(result.words, result.duration)
    assert result.duration > 15.0
    # The late words are timed too, not piled up at the end.
    assert result.words[-1].start < result.duration - 0.1
    timed = [w for w in result.words if w.end > w.start]
    assert len(timed) >= len(tokens) - 4


def test_a_german_voice_times_german_words(synth: Synthesizer) -> None:
    text = "Grüß Gott, wie geht's? Schön, dich zu sehen."
    result = synth.synthesize(text, voice_for(ALICE, "de"))

    assert [w.text for w in result.words] == text.split()
    assert_well_timed(result.words, result.duration)
    assert rms(result.samples) > 500.0


def test_odd_characters_do_not_break_synthesis(synth: Synthesizer) -> None:
    text = "nul\0inside and a lone \ud800 surrogate"
    result = synth.synthesize(text, DEFAULT)

    assert [w.text for w in result.words] == text.split()
    assert_well_timed(result.words, result.duration)


# --- phonemes ----------------------------------------------------------------------------------------


def test_english_text_has_ipa_phonemes(synth: Synthesizer) -> None:
    result = synth.synthesize("Hello there, how are you today?", DEFAULT)

    assert len(result.phonemes) >= 10
    assert all(p.text.strip() for p in result.phonemes)
    assert_well_timed(result.phonemes, result.duration)
    names = "".join(p.text for p in result.phonemes)
    assert "ð" in names  # IPA, not espeak-ng's ASCII mnemonics
    assert result.phonemes[0].text == "h"


# --- voices ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es-MX", "pt-BR", "zh", "ja", "de", "fr", "hi", "ru"])
def test_mapped_voices_speak(synth: Synthesizer, language: str) -> None:
    result = synth.synthesize("Hello 123", voice_for(BOB, language))

    assert result.duration > 0.3
    assert rms(result.samples) > 300.0


def test_different_voice_ids_sound_different(synth: Synthesizer) -> None:
    text = "Hello there, how are you today?"
    alice = synth.synthesize(text, voice_for(ALICE, "en"))
    bob = synth.synthesize(text, voice_for(BOB, "en"))

    assert voice_for(ALICE, "en") != voice_for(BOB, "en")
    assert len(alice.samples) != len(bob.samples) or not np.array_equal(alice.samples, bob.samples)

    def crossings_per_second(result: Speech) -> float:
        signs = np.signbit(result.samples[np.abs(result.samples) > 300])
        return float(np.count_nonzero(signs[1:] != signs[:-1])) / result.duration

    # A higher pitch crosses zero more often.
    low, high = sorted([(voice_for(ALICE, "en").pitch, alice), (voice_for(BOB, "en").pitch, bob)])
    assert high[0] - low[0] >= 10
    assert crossings_per_second(high[1]) > crossings_per_second(low[1])


def test_the_same_voice_is_identical_every_time(synth: Synthesizer) -> None:
    text = "The same words in the same voice."
    voice = voice_for(ALICE, "en")
    first = synth.synthesize(text, voice)
    synth.synthesize("Something else in between.", voice)
    synth.synthesize(text, voice_for(BOB, "en"))
    with Synthesizer() as other:
        second = other.synthesize(text, voice)

    np.testing.assert_array_equal(first.samples, second.samples)
    assert first.words == second.words
    assert first.phonemes == second.phonemes


def test_an_unknown_espeak_voice_is_an_error_and_does_not_stick(synth: Synthesizer) -> None:
    with pytest.raises(ValueError, match="no voice"):
        synth.synthesize("Hello.", VoiceParams("en-gb", 50, 175, 50))

    result = synth.synthesize("Hello.", DEFAULT)
    assert [w.text for w in result.words] == ["Hello."]


def test_out_of_range_parameters_are_clamped(synth: Synthesizer) -> None:
    result = synth.synthesize("Still speaking.", VoiceParams(DEFAULT_VOICE, pitch=500, rate=5, range=-3))

    assert result.duration > 0.3
    assert [w.text for w in result.words] == ["Still", "speaking."]


# --- threads, asyncio, lifetime ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_synthesize_async_from_an_event_loop() -> None:
    with Synthesizer() as s:
        result = await s.synthesize_async("Hello from the event loop.", DEFAULT)
        both = await asyncio.gather(
            s.synthesize_async("First of two.", voice_for(ALICE, "en")),
            s.synthesize_async("Second of two.", voice_for(BOB, "de")),
        )
        blank = await s.synthesize_async("  ", DEFAULT)

    assert [w.text for w in result.words] == ["Hello", "from", "the", "event", "loop."]
    assert [[w.text for w in r.words] for r in both] == [["First", "of", "two."], ["Second", "of", "two."]]
    assert blank.words == ()


@pytest.mark.asyncio
async def test_the_loop_runs_while_espeak_is_between_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    # After the first block of one long synthesis the worker asks the loop to run a callback and waits for
    # it before taking the next block. Synthesis that ran on the loop's thread, or held the loop until it
    # finished, would never see that callback run.
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    block_threads: list[int] = []
    blocks_when_the_loop_ran: list[int] = []
    waits: list[bool] = []
    add_block = espeak._Utterance.add_block

    def observed(utterance: espeak._Utterance, samples: np.ndarray) -> None:
        add_block(utterance, samples)
        block_threads.append(threading.get_ident())
        if len(utterance.blocks) == 1:
            ran = threading.Event()

            def on_loop() -> None:
                blocks_when_the_loop_ran.append(len(utterance.blocks))
                ran.set()

            loop.call_soon_threadsafe(on_loop)
            waits.append(ran.wait(WAIT_LIMIT))

    monkeypatch.setattr(espeak._Utterance, "add_block", observed)
    # A text of its own: a cached result would come back without any block.
    text = PARAGRAPH + " This sentence is spoken by the event loop test alone."
    with Synthesizer() as s:
        result = await s.synthesize_async(text, voice_for(ALICE, "en"))

    assert waits == [True]
    assert blocks_when_the_loop_ran == [1]
    # The loop ran between the first block and the last of many.
    assert len(block_threads) > 10
    assert len(set(block_threads)) == 1 and block_threads[0] != loop_thread
    assert [w.text for w in result.words] == text.split()


def test_synthesis_runs_on_the_one_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    add_block = espeak._Utterance.add_block

    def observed(utterance: espeak._Utterance, samples: np.ndarray) -> None:
        names.append(threading.current_thread().name)
        add_block(utterance, samples)

    monkeypatch.setattr(espeak._Utterance, "add_block", observed)
    with Synthesizer() as s:
        s.synthesize("Only the worker thread speaks, from a plain thread too.", DEFAULT)

    assert names and all(name.startswith("espeak-ng") for name in names)
    assert threading.current_thread().name not in names


def _synthesize_in_threads(texts: list[str], voices: list[VoiceParams]) -> list[Speech]:
    barrier = threading.Barrier(len(texts))

    def work(i: int) -> Speech:
        with Synthesizer() as s:
            barrier.wait()
            return s.synthesize(texts[i], voices[i])

    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        return list(pool.map(work, range(len(texts))))


def test_concurrent_threads_match_sequential_calls(synth: Synthesizer) -> None:
    texts = ["One voice speaks here.", "Eine andere Stimme spricht.", "A third, quite different line."]
    voices = [voice_for(ALICE, "en"), voice_for(BOB, "de"), voice_for(None, "en")]
    sequential = [synth.synthesize(t, v) for t, v in zip(texts, voices, strict=True)]

    concurrent = _synthesize_in_threads(texts, voices)

    for a, b in zip(sequential, concurrent, strict=True):
        np.testing.assert_array_equal(a.samples, b.samples)
        assert a.words == b.words


def test_concurrent_uncached_calls_do_not_mix_engines_state(
    synth: Synthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(espeak, "_CACHE_MAX_SAMPLES", 0)
    texts = [f"Thread number {n} says {word} to everyone." for n, word in enumerate(["hi", "hallo", "salut"])]
    voices = [voice_for(ALICE, "en"), voice_for(BOB, "de"), voice_for("carol", "fr")]
    sequential = [synth.synthesize(t, v) for t, v in zip(texts, voices, strict=True)]

    concurrent = _synthesize_in_threads(texts * 3, voices * 3)

    for i, result in enumerate(concurrent):
        expected = sequential[i % 3]
        assert [w.text for w in result.words] == texts[i % 3].split()
        # espeak-ng's pitch flutter carries over between utterances, so uncached audio differs slightly.
        assert result.duration == pytest.approx(expected.duration, rel=0.02)
        assert [w.start for w in result.words] == pytest.approx([w.start for w in expected.words], abs=0.03)


def test_a_closed_synthesizer_refuses_work() -> None:
    s = Synthesizer()
    s.close()
    s.close()

    assert s.closed
    with pytest.raises(RuntimeError, match="closed"):
        s.synthesize("Hello.", DEFAULT)
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(s.synthesize_async("Hello.", DEFAULT))


def test_the_engine_restarts_after_the_last_synthesizer_closes() -> None:
    # In a fresh process: here, other tests' synthesizers may keep the shared engine alive.
    code = """
from flushscope.emulator import espeak
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.voices import voice_for
voice = voice_for(None, "en")
with Synthesizer() as first:
    assert first._engine.users == 1
    before = first.synthesize("Before the restart.", voice)
assert espeak._engine is None
with Synthesizer() as second:
    after = second.synthesize("After the restart.", voice)
assert [w.text for w in before.words] == ["Before", "the", "restart."]
assert [w.text for w in after.words] == ["After", "the", "restart."]
assert abs(after.samples.astype(float)).mean() > 100
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
