"""Which espeak-ng voice, pitch, range and rate speak for a Cartesia voice id and language (no synthesis)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flushscope.emulator.voices import (
    DEFAULT_PITCH,
    DEFAULT_RANGE,
    DEFAULT_RATE,
    DEFAULT_VOICE,
    VoiceParams,
    _language_table,
    voice_for,
)

ALICE = "a0e99841-438c-4a64-b679-ae501e7d6091"
BOB = "694f9389-aac1-45b6-b726-9d9369183238"


def test_voice_for_is_deterministic_and_spreads_ids() -> None:
    assert voice_for(ALICE, "en") == voice_for(ALICE, "en")
    alice, bob = voice_for(ALICE, "en"), voice_for(BOB, "en")
    assert alice != bob
    assert (alice.pitch, alice.range) != (bob.pitch, bob.range)
    params = [voice_for(f"voice-{i}", None) for i in range(200)]
    assert len({p.pitch for p in params}) > 30
    assert len({p.rate for p in params}) > 15
    assert len({p.range for p in params}) > 30
    for p in params:
        assert 20 <= p.pitch <= 80
        assert 25 <= p.range <= 85
        assert 160 <= p.rate <= 190


def test_voice_for_without_an_id_uses_espeak_defaults() -> None:
    assert voice_for(None, None) == VoiceParams(espeak_voice="en-us", pitch=50, rate=175, range=50)
    assert (DEFAULT_VOICE, DEFAULT_PITCH, DEFAULT_RATE, DEFAULT_RANGE) == ("en-us", 50, 175, 50)


def test_the_language_changes_the_voice_name_only() -> None:
    english, german = voice_for(ALICE, "en"), voice_for(ALICE, "de")

    assert (english.espeak_voice, german.espeak_voice) == ("en-us", "de")
    assert (english.pitch, english.rate, english.range) == (german.pitch, german.rate, german.range)


def test_the_same_id_maps_alike_in_another_process() -> None:
    # hash() of a str differs between processes; the mapping must not.
    code = f"from flushscope.emulator.voices import voice_for; print(voice_for({ALICE!r}, 'de'))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == repr(voice_for(ALICE, "de"))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, "en-us"),
        ("", "en-us"),
        ("en", "en-us"),
        ("en-US", "en-us"),
        ("en_us", "en-us"),
        (" EN-us ", "en-us"),
        ("en-GB", "en"),
        ("en-AU", "en-us"),
        ("es", "es"),
        ("es-MX", "es-419"),
        ("pt", "pt"),
        ("pt-BR", "pt-br"),
        ("de", "de"),
        ("de-AT", "de"),
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("zh", "cmn"),
        ("zh-CN", "cmn"),
        ("ja", "ja"),
        ("ko", "ko"),
        ("hi", "hi"),
        ("no", "nb"),
        ("tl", "en-us"),
        ("xx-unknown", "en-us"),
        ("-", "en-us"),
        ("fo", "en-us"),  # the voice exists but its dictionary is not shipped
    ],
)
def test_voice_for_maps_languages_to_shipped_voices(language: str | None, expected: str) -> None:
    assert voice_for(ALICE, language).espeak_voice == expected
    assert voice_for(None, language).espeak_voice == expected


@given(voice_id=st.none() | st.text(), language=st.none() | st.text())
def test_any_request_maps_to_a_shipped_voice_within_range(voice_id: str | None, language: str | None) -> None:
    params = voice_for(voice_id, language)

    assert params == voice_for(voice_id, language)
    assert params.espeak_voice == DEFAULT_VOICE or params.espeak_voice in _language_table().values()
    assert 0 <= params.pitch <= 100
    assert 0 <= params.range <= 100
    assert 80 <= params.rate <= 450
