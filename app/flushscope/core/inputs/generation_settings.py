"""Generation settings of a context: model, voice, output format and the options sent with every input.

One class serves the scenario scripts (``set KEY VALUE``), the client and the GUI's settings panel, so a
setting means the same thing and is checked the same way wherever it comes from.

The script keys and the values they take:

``model``               a model id (``sonic-3``, ...): printable ASCII, no spaces
``voice``               a voice id, sent as ``{"mode": "id", "id": ...}``: printable ASCII, no spaces
``language``            a language code: ``en``, ``fr``, ``es-MX``, ...
``encoding``            ``pcm_f32le``, ``pcm_s16le``, ``pcm_mulaw`` or ``pcm_alaw``
``sample_rate``         8000, 16000, 22050, 24000, 44100 or 48000
``timestamps``          ``on`` or ``off`` (also ``true``/``false``): word timestamps
``phonemes``            ``on`` or ``off``: phoneme timestamps
``max_buffer_delay_ms`` an integer from 0 to 5000
``speed``               a positive number, sent as ``generation_config.speed``; ``none`` leaves it out.
                        The range the service accepts (0.6 to 1.5 or 2.0 depending on the source) is the
                        server's to enforce: an inspector should be able to send what it rejects.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Final

__all__ = [
    "DEFAULT_VOICE_ID",
    "ENCODINGS",
    "SAMPLE_RATES",
    "SETTING_KEYS",
    "GenerationSettings",
    "SettingsError",
]

DEFAULT_VOICE_ID: Final = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"

# The same sets as flushscope.protocol.audio; repeated so that reading a script does not import numpy.
ENCODINGS: Final[tuple[str, ...]] = ("pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw")
SAMPLE_RATES: Final[tuple[int, ...]] = (8000, 16000, 22050, 24000, 44100, 48000)

MAX_BUFFER_DELAY_MS: Final = 5000

#: The keys ``set KEY VALUE`` and :meth:`GenerationSettings.apply` accept, in the order the docs list them.
SETTING_KEYS: Final[tuple[str, ...]] = (
    "model",
    "voice",
    "language",
    "encoding",
    "sample_rate",
    "timestamps",
    "phonemes",
    "max_buffer_delay_ms",
    "speed",
)

# Ids travel in JSON and in logs: printable ASCII keeps them unambiguous.
_ID = re.compile(r"[\x21-\x7e]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_INT = re.compile(r"[+-]?[0-9]{1,9}")
_SWITCH: Final[dict[str, bool]] = {"on": True, "off": False, "true": True, "false": False}


class SettingsError(ValueError):
    """A setting's key is unknown or its value is not allowed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    """The settings a context is created with. Immutable: :meth:`apply` returns a changed copy.

    Every value is checked on construction, so an instance always describes a request the client can send.
    """

    model_id: str = "sonic-3"
    voice_id: str = DEFAULT_VOICE_ID
    language: str = "en"
    encoding: str = "pcm_s16le"
    sample_rate: int = 24000
    add_timestamps: bool = True
    add_phoneme_timestamps: bool = False
    max_buffer_delay_ms: int = 0
    speed: float | None = None

    def __post_init__(self) -> None:
        _check_id("model", self.model_id)
        _check_id("voice", self.voice_id)
        if not isinstance(self.language, str) or not _LANGUAGE.fullmatch(self.language):
            raise SettingsError(f"language must be a language code like en or es-MX, not {self.language!r}")
        if self.encoding not in ENCODINGS:
            raise SettingsError(f"encoding must be one of {', '.join(ENCODINGS)}, not {self.encoding!r}")
        if (
            isinstance(self.sample_rate, bool)
            or not isinstance(self.sample_rate, int)
            or self.sample_rate not in SAMPLE_RATES
        ):
            rates = ", ".join(map(str, SAMPLE_RATES))
            raise SettingsError(f"sample_rate must be one of {rates}, not {self.sample_rate!r}")
        for name in ("add_timestamps", "add_phoneme_timestamps"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be true or false, not {getattr(self, name)!r}")
        delay = self.max_buffer_delay_ms
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_BUFFER_DELAY_MS:
            raise SettingsError(
                f"max_buffer_delay_ms must be an integer from 0 to {MAX_BUFFER_DELAY_MS}, not {delay!r}"
            )
        speed = self.speed
        if speed is not None and (
            isinstance(speed, bool)
            or not isinstance(speed, int | float)
            or not math.isfinite(speed)
            or speed <= 0
        ):
            raise SettingsError(f"speed must be a positive number, not {speed!r}")

    def apply(self, key: str, value: str) -> GenerationSettings:
        """A copy with the setting ``key`` (a script key, see :data:`SETTING_KEYS`) set from its text."""
        text = value.strip()
        match key:
            case "model":
                return replace(self, model_id=text)
            case "voice":
                return replace(self, voice_id=text)
            case "language":
                return replace(self, language=text)
            case "encoding":
                return replace(self, encoding=text.lower())
            case "sample_rate":
                return replace(self, sample_rate=_parse_int(key, text))
            case "timestamps":
                return replace(self, add_timestamps=_parse_switch(key, text))
            case "phonemes":
                return replace(self, add_phoneme_timestamps=_parse_switch(key, text))
            case "max_buffer_delay_ms":
                return replace(self, max_buffer_delay_ms=_parse_int(key, text))
            case "speed":
                return replace(self, speed=_parse_speed(text))
        raise SettingsError(f"unknown setting {key!r}: the settings are {', '.join(SETTING_KEYS)}")

    def output_format(self) -> dict[str, Any]:
        """The wire ``output_format`` object."""
        return {"container": "raw", "encoding": self.encoding, "sample_rate": self.sample_rate}

    def request_fields(self) -> dict[str, Any]:
        """The fields every input of a context repeats (all but ``context_id``, ``transcript``,
        ``continue`` and ``flush``), as fresh objects the caller may change."""
        fields: dict[str, Any] = {
            "model_id": self.model_id,
            "voice": {"mode": "id", "id": self.voice_id},
            "output_format": self.output_format(),
            "language": self.language,
            "add_timestamps": self.add_timestamps,
            "add_phoneme_timestamps": self.add_phoneme_timestamps,
            "max_buffer_delay_ms": self.max_buffer_delay_ms,
        }
        if self.speed is not None:
            fields["generation_config"] = {"speed": self.speed}
        return fields


def _check_id(name: str, value: object) -> None:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise SettingsError(f"{name} must be a non-empty id of printable ASCII with no spaces, not {value!r}")


def _parse_int(key: str, text: str) -> int:
    if not _INT.fullmatch(text):
        raise SettingsError(f"{key} must be an integer, not {text!r}")
    return int(text)


def _parse_switch(key: str, text: str) -> bool:
    try:
        return _SWITCH[text.lower()]
    except KeyError:
        raise SettingsError(f"{key} must be on or off, not {text!r}") from None


def _parse_speed(text: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise SettingsError(f"speed must be a number, not {text!r}") from None
    if not math.isfinite(speed) or speed <= 0:
        raise SettingsError(f"speed must be a positive number, not {text!r}")
    return speed
