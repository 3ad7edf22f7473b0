"""Speech for the embedded emulator in one import, for code outside it.

The parts live in modules of their own: :mod:`.voices` (which espeak-ng voice, pitch and rate speak for a
Cartesia voice), :mod:`.alignment` (word and phoneme timings matched to the transcript) and :mod:`.espeak`
(the library, its worker thread and :class:`Synthesizer`).
"""

from flushscope.emulator.alignment import TimedToken
from flushscope.emulator.espeak import SAMPLE_RATE, Speech, Synthesizer
from flushscope.emulator.voices import DEFAULT_VOICE, VoiceParams, voice_for

__all__ = ["DEFAULT_VOICE", "SAMPLE_RATE", "Speech", "Synthesizer", "TimedToken", "VoiceParams", "voice_for"]
