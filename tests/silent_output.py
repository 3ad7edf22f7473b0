"""An audio output with no device, for window tests that are about something other than playback: playing
is greyed out with a reason, as on a machine without sound (real playback is tested through PortAudio)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from flushscope.audio.output import BlockCallback, DeviceInfo, OutputError, OutputStream

REASON: Final = "audio playback is not available"


class SilentOutput:
    """Lists no device, says playback cannot work, and refuses to open a stream."""

    def devices(self) -> list[DeviceInfo]:
        return []

    def availability(self, device: int | None = None) -> tuple[bool, str]:
        return False, REASON

    def open(
        self,
        *,
        samplerate: int,
        dtype: str,
        device: int | None,
        callback: BlockCallback,
        on_finished: Callable[[], None],
        latency: float | str,
    ) -> OutputStream:
        raise OutputError(REASON)
