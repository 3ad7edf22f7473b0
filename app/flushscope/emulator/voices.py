"""Which espeak-ng voice speaks for a Cartesia voice: its espeak-ng voice name, pitch, range and rate.

The same voice id always maps to the same settings, in every process, and different ids usually sound
audibly different. The language picks the espeak-ng voice among those whose data is shipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import espeakng_loader

from flushscope.protocol.messages import GenerationRequest, voice_id_of

#: The espeak-ng voice used when a language is missing or unknown.
DEFAULT_VOICE: Final = "en-us"
DEFAULT_PITCH: Final = 50
DEFAULT_RATE: Final = 175
DEFAULT_RANGE: Final = 50


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


#: The legacy ``speed`` words, as rate factors.
_SPEEDS: Final[Mapping[str, float]] = {
    "slowest": 0.6,
    "slow": 0.8,
    "normal": 1.0,
    "fast": 1.25,
    "fastest": 1.5,
}


def voice_params(first: GenerationRequest) -> VoiceParams:
    """espeak settings for the context's voice, language and speed."""
    params = voice_for(voice_id_of(first.voice), first.language)
    speed = 1.0
    config = first.generation_config or {}
    if isinstance(config.get("speed"), int | float) and not isinstance(config.get("speed"), bool):
        speed = min(max(float(config["speed"]), 0.5), 2.0)
    elif first.speed is not None and first.speed in _SPEEDS:
        speed = _SPEEDS[first.speed]
    return dataclasses.replace(params, rate=round(params.rate * speed)) if speed != 1.0 else params
