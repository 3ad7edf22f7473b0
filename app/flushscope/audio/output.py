"""Audio output hardware behind a small interface, with the sounddevice (PortAudio) implementation.

The player only needs to open a mono stream with a callback, start, stop and close it, and to ask which
devices exist and whether playback can work at all. :func:`default_output` is the one place that picks the
implementation.

``sounddevice`` raises ``OSError`` at import when the PortAudio library is missing (Linux wheels do not ship
it), so the import is guarded: this module always imports, and :meth:`AudioOutput.availability` says in
words why playback cannot work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy.typing as npt

try:
    import sounddevice as _sounddevice
except OSError as exc:  # PortAudio library not found
    _sd: Any = None
    _IMPORT_PROBLEM = str(exc)
else:
    _sd = _sounddevice
    _IMPORT_PROBLEM = ""

__all__ = [
    "AudioOutput",
    "BlockCallback",
    "DeviceInfo",
    "OutputError",
    "OutputStream",
    "SoundDeviceOutput",
    "availability",
    "default_output",
    "list_devices",
]

#: Fills ``out`` (shape ``(frames, 1)``, the stream's dtype) and returns True when that block is the last:
#: the stream then plays what it holds and stops. Runs on the audio thread.
BlockCallback = Callable[[npt.NDArray[Any], int], bool]


class OutputError(Exception):
    """A stream that could not be opened or started, with the reason in words."""


@dataclass(frozen=True)
class DeviceInfo:
    """An output device as the user picks it: PortAudio's index, its name, and whether it is the default."""

    index: int
    name: str
    is_default: bool


class OutputStream(Protocol):
    """One open mono output stream. Every method is called from the owner's thread."""

    @property
    def latency(self) -> float:
        """Seconds between a sample being handed over and it being heard, as the device reports it."""
        ...

    @property
    def underflows(self) -> int:
        """Blocks the device asked for late (the callback missed its deadline)."""
        ...

    @property
    def failure(self) -> str | None:
        """Why the stream ended on its own because of an error, or None."""
        ...

    def start(self) -> None:
        """Start (or restart, after the callback ended a block run) calling the callback."""
        ...

    def stop(self) -> None:
        """Stop after what was handed over has played; returns at once when the stream already ended."""
        ...

    def abort(self) -> None:
        """Stop at once, dropping what was handed over."""
        ...

    def close(self) -> None:
        """Release the device. Idempotent."""
        ...


class AudioOutput(Protocol):
    """What the player needs from audio hardware."""

    def devices(self) -> list[DeviceInfo]:
        """Output devices, the default first; empty when there are none."""
        ...

    def availability(self, device: int | None = None) -> tuple[bool, str]:
        """Whether playback can work on ``device`` (None: the default), and why not in words."""
        ...

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
        """Open a mono stream (not yet started). ``on_finished`` runs on the audio thread once the stream has
        become inactive: after the callback's last block played, or after stop/abort. Raises OutputError."""
        ...


class _SoundDeviceStream:
    """A ``sounddevice.OutputStream`` with typed methods and the block callback adapted to PortAudio's."""

    def __init__(
        self,
        *,
        samplerate: int,
        dtype: str,
        device: int | None,
        callback: BlockCallback,
        on_finished: Callable[[], None],
        latency: float | str,
    ) -> None:
        sd = _sd
        stop = sd.CallbackStop
        abort = sd.CallbackAbort
        self._underflows = 0
        self._failure: str | None = None

        def portaudio_callback(outdata: npt.NDArray[Any], frames: int, _time: Any, status: Any) -> None:
            if status:
                self._underflows += 1
            try:
                last = callback(outdata, frames)
            except Exception as exc:  # an exception escaping into cffi would only be printed
                self._failure = f"playback failed: {exc!r}"
                outdata.fill(0)
                raise abort from exc
            if last:
                raise stop

        self._stream: Any = sd.OutputStream(
            samplerate=samplerate,
            dtype=dtype,
            channels=1,
            device=device,
            callback=portaudio_callback,
            finished_callback=on_finished,
            latency=latency,
        )

    @property
    def latency(self) -> float:
        return float(self._stream.latency)

    @property
    def underflows(self) -> int:
        return self._underflows

    @property
    def failure(self) -> str | None:
        return self._failure

    def start(self) -> None:
        try:
            self._stream.start()
        except _sd.PortAudioError as exc:
            raise OutputError(f"cannot start audio output: {exc}") from exc

    def stop(self) -> None:
        self._stream.stop()

    def abort(self) -> None:
        self._stream.abort()

    def close(self) -> None:
        self._stream.close()


class SoundDeviceOutput:
    """Audio output through PortAudio (the ``sounddevice`` package).

    Nothing is cached: devices are asked of PortAudio each time, so a re-initialised PortAudio (a new ALSA
    configuration, a device plugged in) is seen at once.
    """

    def devices(self) -> list[DeviceInfo]:
        sd = _sd
        if sd is None:
            return []
        try:
            found = sd.query_devices()
            default = _default_output_index()
        except sd.PortAudioError:
            return []
        outputs = [
            DeviceInfo(int(d["index"]), str(d["name"]), int(d["index"]) == default)
            for d in found
            if int(d["max_output_channels"]) > 0
        ]
        outputs.sort(key=lambda d: not d.is_default)
        return outputs

    def availability(self, device: int | None = None) -> tuple[bool, str]:
        sd = _sd
        if sd is None:
            return False, (
                f"audio playback is unavailable: {_IMPORT_PROBLEM or 'PortAudio library not found'} "
                "(install the PortAudio library, e.g. libportaudio2 on Debian and Ubuntu)"
            )
        if not self.devices():
            return False, "audio playback is unavailable: PortAudio finds no audio output device"
        if device is None and _default_output_index() < 0:
            return False, "audio playback is unavailable: there is no default audio output device"
        try:
            sd.check_output_settings(device=device, channels=1, dtype="int16")
        except (sd.PortAudioError, ValueError) as exc:
            name = "the default output" if device is None else f"output device {device}"
            return False, f"audio playback is unavailable: {name} cannot be used ({exc})"
        return True, ""

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
        sd = _sd
        if sd is None:
            raise OutputError(self.availability(device)[1])
        try:
            return _SoundDeviceStream(
                samplerate=samplerate,
                dtype=dtype,
                device=device,
                callback=callback,
                on_finished=on_finished,
                latency=latency,
            )
        except (sd.PortAudioError, ValueError) as exc:
            usable, reason = self.availability(device)
            if not usable:
                raise OutputError(reason) from exc
            raise OutputError(f"cannot open audio output at {samplerate} Hz {dtype}: {exc}") from exc


def _default_output_index() -> int:
    """PortAudio's default output device, or -1 when there is none."""
    index = _sd.default.device[1]
    if index is None or int(index) < 0:
        try:
            index = _sd.query_devices(kind="output")["index"]
        except _sd.PortAudioError:
            return -1
    return int(index)


def default_output() -> AudioOutput:
    """The audio output the application uses."""
    return SoundDeviceOutput()


def list_devices() -> list[DeviceInfo]:
    """Output devices of :func:`default_output`, the default first."""
    return default_output().devices()


def availability(device: int | None = None) -> tuple[bool, str]:
    """Whether :func:`default_output` can play on ``device`` (None: the default), and why not in words."""
    return default_output().availability(device)
