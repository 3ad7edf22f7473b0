"""Raw audio formats of the Cartesia TTS WebSocket: validation, sample conversion, G.711 and resampling.

Everything here is vectorised numpy; nothing walks samples in Python, because a single context can carry
minutes of 48 kHz audio and the UI converts it while streaming.

Float conventions: int16 maps to float by dividing by 32768 and float maps back by multiplying by 32768,
rounding to nearest and clipping to [-32768, 32767]. The two are exact inverses on every int16 value, so
re-encoding decoded ``pcm_s16le`` (or G.711) audio reproduces the original bytes; the price is that +1.0
clips to 32767, one step short of the mirror image of -1.0.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt
import soxr

__all__ = [
    "SAMPLE_RATES",
    "AudioFormat",
    "AudioFormatError",
    "BytesLike",
    "Encoding",
    "alaw_decode",
    "alaw_encode",
    "decode",
    "decode_blocks",
    "decode_native",
    "encode",
    "mulaw_decode",
    "mulaw_encode",
    "resample",
    "to_int16",
]

BytesLike = bytes | bytearray | memoryview

SAMPLE_RATES: tuple[int, ...] = (8000, 16000, 22050, 24000, 44100, 48000)

_CONTAINERS: tuple[str, ...] = ("raw",)


class Encoding(enum.StrEnum):
    """A raw sample encoding the TTS WebSocket can return."""

    PCM_F32LE = "pcm_f32le"
    PCM_S16LE = "pcm_s16le"
    PCM_MULAW = "pcm_mulaw"
    PCM_ALAW = "pcm_alaw"

    @property
    def sample_width(self) -> int:
        """Bytes per (mono) sample."""
        return _SAMPLE_WIDTH[self]

    @property
    def native_dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the bytes as sent: ``<f4``, ``<i2`` or ``u1`` (G.711 codes)."""
        return _NATIVE_DTYPE[self]


_SAMPLE_WIDTH: dict[Encoding, int] = {
    Encoding.PCM_F32LE: 4,
    Encoding.PCM_S16LE: 2,
    Encoding.PCM_MULAW: 1,
    Encoding.PCM_ALAW: 1,
}

_NATIVE_DTYPE: dict[Encoding, np.dtype[Any]] = {
    Encoding.PCM_F32LE: np.dtype("<f4"),
    Encoding.PCM_S16LE: np.dtype("<i2"),
    Encoding.PCM_MULAW: np.dtype("u1"),
    Encoding.PCM_ALAW: np.dtype("u1"),
}


class AudioFormatError(ValueError):
    """An encoding, rate or container the protocol does not define, with what was wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The offending ``output_format`` key, or None when the whole value is wrong.
        self.field = field


def _parse_encoding(value: object) -> Encoding:
    if isinstance(value, Encoding):
        return value
    if isinstance(value, str):
        try:
            return Encoding(value)
        except ValueError:
            pass
    allowed = ", ".join(e.value for e in Encoding)
    raise AudioFormatError(f"encoding: {value!r} is not one of {allowed}", field="encoding")


def _check_sample_rate(value: object) -> int:
    # bool is an int subclass, and JSON true must not pass as a rate.
    if isinstance(value, int) and not isinstance(value, bool) and value in SAMPLE_RATES:
        return value
    allowed = ", ".join(str(r) for r in SAMPLE_RATES)
    raise AudioFormatError(f"sample_rate: {value!r} is not one of {allowed}", field="sample_rate")


def _check_container(value: object) -> str:
    if isinstance(value, str) and value in _CONTAINERS:
        return value
    allowed = ", ".join(_CONTAINERS)
    raise AudioFormatError(
        f"container: {value!r} is not one of {allowed} (the WebSocket only streams raw)", field="container"
    )


@dataclass(frozen=True)
class AudioFormat:
    """One raw mono output format: encoding and sample rate."""

    encoding: Encoding
    sample_rate: int
    container: str = "raw"

    def __post_init__(self) -> None:
        # A plain string is accepted for convenience and stored as the enum so equality and hashing agree.
        object.__setattr__(self, "encoding", _parse_encoding(self.encoding))
        _check_sample_rate(self.sample_rate)
        _check_container(self.container)

    @classmethod
    def from_json(cls, obj: object) -> AudioFormat:
        """Parse an ``output_format`` object. All three fields are required, as in the API; unknown keys are
        ignored. Raises AudioFormatError naming the offending field."""
        if not isinstance(obj, Mapping):
            raise AudioFormatError(f"output_format: expected an object, got {type(obj).__name__}")
        for field in ("container", "encoding", "sample_rate"):
            if field not in obj:
                raise AudioFormatError(f"{field}: missing from output_format", field=field)
        return cls(
            encoding=_parse_encoding(obj["encoding"]),
            sample_rate=_check_sample_rate(obj["sample_rate"]),
            container=_check_container(obj["container"]),
        )

    def to_json(self) -> dict[str, object]:
        return {"container": self.container, "encoding": self.encoding.value, "sample_rate": self.sample_rate}

    @property
    def sample_width(self) -> int:
        return self.encoding.sample_width

    def samples_in(self, nbytes: int) -> int:
        """Whole samples in ``nbytes``; a trailing partial sample does not count."""
        if nbytes < 0:
            raise ValueError(f"nbytes must not be negative, got {nbytes}")
        return nbytes // self.encoding.sample_width

    def duration(self, nbytes: int) -> float:
        """Seconds of audio in ``nbytes`` (whole samples only)."""
        return self.samples_in(nbytes) / self.sample_rate

    def bytes_for(self, seconds: float) -> int:
        """Byte count of the whole number of samples nearest to ``seconds``. Rounds rather than floors so
        that e.g. 0.3 s is not one sample short because 0.3 * rate lands just below an integer."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be finite and not negative, got {seconds}")
        return round(seconds * self.sample_rate) * self.encoding.sample_width


# --- G.711 -----------------------------------------------------------------------------------------------

_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635
# Biased magnitudes at which each mu-law segment starts (segment n covers [2**(n+7), 2**(n+8))).
_MULAW_SEG_STARTS = np.array([1 << n for n in range(8, 15)], dtype=np.int32)
# Thirteen-bit magnitudes at which A-law segments 1..7 start.
_ALAW_SEG_STARTS = np.array([1 << n for n in range(5, 12)], dtype=np.int32)


def _all_int16_as_int32() -> npt.NDArray[np.int32]:
    # Ordered by the uint16 bit pattern so the result can be indexed with ``pcm.view(np.uint16)``.
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int32)


def _build_mulaw_encode_table() -> npt.NDArray[np.uint8]:
    x = _all_int16_as_int32()
    sign = (x < 0).astype(np.int32) << 7
    biased = np.minimum(np.abs(x), _MULAW_CLIP) + _MULAW_BIAS
    exponent = np.searchsorted(_MULAW_SEG_STARTS, biased, side="right").astype(np.int32)
    mantissa = (biased >> (exponent + 3)) & 0x0F
    return ((sign | (exponent << 4) | mantissa) ^ 0xFF).astype(np.uint8)


def _build_mulaw_decode_table() -> npt.NDArray[np.int16]:
    u = np.arange(256, dtype=np.int32) ^ 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    t = ((mantissa << 3) + _MULAW_BIAS) << exponent
    return np.where(u & 0x80, _MULAW_BIAS - t, t - _MULAW_BIAS).astype(np.int16)


def _build_alaw_encode_table() -> npt.NDArray[np.uint8]:
    x = _all_int16_as_int32() >> 3
    positive = x >= 0
    mask = np.where(positive, 0xD5, 0x55)
    # Negative inputs use the one's complement so the two halves are mirror images with no zero level.
    magnitude = np.where(positive, x, -x - 1)
    segment = np.searchsorted(_ALAW_SEG_STARTS, magnitude, side="right").astype(np.int32)
    shift = np.maximum(segment, 1)
    mantissa = (magnitude >> shift) & 0x0F
    return (((segment << 4) | mantissa) ^ mask).astype(np.uint8)


def _build_alaw_decode_table() -> npt.NDArray[np.int16]:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    mantissa = (a & 0x0F) << 4
    segment = (a & 0x70) >> 4
    t = np.where(segment == 0, mantissa + 8, (mantissa + 0x108) << np.maximum(segment - 1, 0))
    return np.where(a & 0x80, t, -t).astype(np.int16)


_TableT = TypeVar("_TableT", np.uint8, np.int16, np.float32)


def _readonly(table: npt.NDArray[_TableT]) -> npt.NDArray[_TableT]:
    table.flags.writeable = False
    return table


_MULAW_ENCODE = _readonly(_build_mulaw_encode_table())
_MULAW_DECODE = _readonly(_build_mulaw_decode_table())
_ALAW_ENCODE = _readonly(_build_alaw_encode_table())
_ALAW_DECODE = _readonly(_build_alaw_decode_table())
# Every int16 / 32768 is exact in float32, so these agree bit for bit with decoding through int16.
_MULAW_DECODE_F32 = _readonly((_MULAW_DECODE.astype(np.float32) / np.float32(32768.0)).astype(np.float32))
_ALAW_DECODE_F32 = _readonly((_ALAW_DECODE.astype(np.float32) / np.float32(32768.0)).astype(np.float32))


def _lookup(table: npt.NDArray[_TableT], index: npt.NDArray[Any]) -> npt.NDArray[_TableT]:
    # np.take is about twice as fast as fancy indexing for these small tables.
    out: npt.NDArray[_TableT] = np.take(table, index)
    return out


def _require_int16(pcm16: npt.NDArray[Any]) -> npt.NDArray[np.int16]:
    arr = np.asarray(pcm16)
    if arr.dtype != np.int16:
        raise TypeError(f"expected int16 samples, got {arr.dtype}")
    return arr


def _require_codes(codes: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    arr = np.asarray(codes)
    if arr.dtype != np.uint8:
        raise TypeError(f"expected uint8 G.711 codes, got {arr.dtype}")
    return arr


def mulaw_encode(pcm16: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    """16-bit linear PCM to G.711 mu-law codes. Zero encodes to 0xFF, never to its twin 0x7F."""
    arr = _require_int16(pcm16)
    return _lookup(_MULAW_ENCODE, arr.view(np.uint16))


def mulaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """G.711 mu-law codes to 16-bit linear PCM (standard reconstruction levels, peak +-32124)."""
    return _lookup(_MULAW_DECODE, _require_codes(codes))


def alaw_encode(pcm16: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    """16-bit linear PCM to G.711 A-law codes (even bits inverted as transmitted)."""
    arr = _require_int16(pcm16)
    return _lookup(_ALAW_ENCODE, arr.view(np.uint16))


def alaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """G.711 A-law codes to 16-bit linear PCM (standard reconstruction levels, peak +-32256)."""
    return _lookup(_ALAW_DECODE, _require_codes(codes))


# --- bytes <-> samples -----------------------------------------------------------------------------------


def decode_native(data: BytesLike, encoding: Encoding) -> npt.NDArray[Any]:
    """Zero-copy view of ``data`` in ``encoding.native_dtype`` (a trailing partial sample is left out).
    Read-only when ``data`` is ``bytes``; it aliases ``data`` otherwise, so copy it before reusing the
    buffer."""
    dtype = encoding.native_dtype
    count = memoryview(data).nbytes // dtype.itemsize
    return np.frombuffer(data, dtype=dtype, count=count)


def decode(data: BytesLike, encoding: Encoding) -> npt.NDArray[np.float32]:
    """Raw bytes -> float32 samples in [-1, 1]. A trailing partial sample is ignored (callers detect it with
    len(data) % sample_width)."""
    native = decode_native(data, encoding)
    if encoding is Encoding.PCM_F32LE:
        # Returned as sent, NaN and inf included: this is an inspector and must show what arrived.
        as_sent: npt.NDArray[np.float32] = native.astype(np.float32)
        return as_sent
    if encoding is Encoding.PCM_S16LE:
        scaled: npt.NDArray[np.float32] = native.astype(np.float32) / np.float32(32768.0)
        return scaled
    if encoding is Encoding.PCM_MULAW:
        return _lookup(_MULAW_DECODE_F32, native)
    return _lookup(_ALAW_DECODE_F32, native)


_Sample = TypeVar("_Sample", bound=np.generic)


def decode_blocks(
    blocks: Iterable[bytes], encoding: Encoding, convert: Callable[[bytes, Encoding], npt.NDArray[_Sample]]
) -> Iterator[npt.NDArray[_Sample]]:
    """``convert`` (:func:`decode` or :func:`to_int16`) of consecutive blocks of audio in ``encoding``, such
    as a capture read a block at a time: a sample that straddles two blocks is carried over to the next, and
    a partial sample at the very end is left out, as everywhere."""
    width = encoding.sample_width
    carry = b""
    for block in blocks:
        data = carry + block if carry else block
        whole = len(data) - len(data) % width
        carry = data[whole:]
        if whole:
            yield convert(data[:whole], encoding)


_INT16_TOP = 32767.0 / 32768.0  # exact in float32: 1 - 2**-15


def _float_to_int16(samples: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.int16]:
    # Clipping first keeps huge finite values and inf from overflowing; the upper bound is the largest
    # value that scales to 32767, so no second clip is needed after rounding.
    # float16 cannot hold _INT16_TOP (it rounds to 1.0 and would wrap to -32768), so widen it.
    wide = samples.astype(np.result_type(samples.dtype, np.float32), copy=False)
    work = np.clip(wide, -1.0, _INT16_TOP)
    _silence_nan(work)
    np.multiply(work, 32768.0, out=work)
    np.rint(work, out=work)
    pcm16: npt.NDArray[np.int16] = work.astype(np.int16)
    return pcm16


def _silence_nan(work: npt.NDArray[np.floating[Any]]) -> None:
    # NaN has no sensible level. Checked first because np.nan_to_num costs several times a whole encode.
    nan = np.isnan(work)
    if nan.any():
        work[nan] = 0.0


def to_int16(data: BytesLike, encoding: Encoding) -> npt.NDArray[np.int16]:
    """Raw bytes -> int16 samples, for 16-bit WAV export and playback. f32 is clipped to [-1, 1] and scaled
    (NaN becomes 0); G.711 is expanded through the standard table."""
    native = decode_native(data, encoding)
    if encoding is Encoding.PCM_F32LE:
        return _float_to_int16(native)
    if encoding is Encoding.PCM_S16LE:
        pcm16: npt.NDArray[np.int16] = native.astype(np.int16)
        return pcm16
    if encoding is Encoding.PCM_MULAW:
        return _lookup(_MULAW_DECODE, native)
    return _lookup(_ALAW_DECODE, native)


def encode(samples: npt.NDArray[np.floating[Any]] | npt.NDArray[np.int16], encoding: Encoding) -> bytes:
    """float samples in [-1,1] (clipped) or int16 -> raw bytes in `encoding`. NaN encodes as silence and
    +-inf as full scale."""
    arr: npt.NDArray[Any] = np.asarray(samples)
    if arr.ndim != 1:
        raise ValueError(f"expected mono (1-D) samples, got shape {arr.shape}")
    is_int16 = arr.dtype == np.int16
    if not is_int16 and not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"expected floating or int16 samples, got {arr.dtype}")
    if encoding is Encoding.PCM_F32LE:
        if is_int16:
            floats = arr.astype(np.float32) / np.float32(32768.0)
        else:
            floats = np.clip(arr, -1.0, 1.0)
            _silence_nan(floats)
        return floats.astype("<f4").tobytes()
    pcm16: npt.NDArray[np.int16] = arr if is_int16 else _float_to_int16(arr)
    if encoding is Encoding.PCM_S16LE:
        return pcm16.astype("<i2").tobytes()
    if encoding is Encoding.PCM_MULAW:
        return mulaw_encode(pcm16).tobytes()
    return alaw_encode(pcm16).tobytes()


# --- resampling ------------------------------------------------------------------------------------------

_QUALITY = "HQ"


def _check_rate(name: str, rate: int) -> None:
    if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
        raise ValueError(f"{name} must be a positive integer, got {rate!r}")


def _as_resample_input(samples: npt.NDArray[Any]) -> npt.NDArray[np.float32] | npt.NDArray[np.int16]:
    arr = np.asarray(samples)
    if arr.ndim != 1:
        raise ValueError(f"expected mono (1-D) samples, got shape {arr.shape}")
    if arr.dtype == np.int16:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.float32, copy=False)
    raise TypeError(f"expected floating or int16 samples, got {arr.dtype}")


@overload
def resample(samples: npt.NDArray[np.int16], src_rate: int, dst_rate: int) -> npt.NDArray[np.int16]: ...
@overload
def resample(
    samples: npt.NDArray[np.floating[Any]], src_rate: int, dst_rate: int
) -> npt.NDArray[np.float32]: ...
def resample(
    samples: npt.NDArray[np.floating[Any]] | npt.NDArray[np.int16], src_rate: int, dst_rate: int
) -> npt.NDArray[np.float32] | npt.NDArray[np.int16]:
    """High-quality (soxr HQ) rate conversion of a whole mono signal. int16 stays int16 (soxr clips);
    any float becomes float32. At equal rates the input is returned as is (float64 is still converted)."""
    _check_rate("src_rate", src_rate)
    _check_rate("dst_rate", dst_rate)
    arr = _as_resample_input(samples)
    if src_rate == dst_rate:
        return arr
    out: npt.NDArray[np.float32] | npt.NDArray[np.int16] = soxr.resample(
        np.ascontiguousarray(arr), src_rate, dst_rate, quality=_QUALITY
    )
    return out
