"""Raw audio formats: byte/sample conversion, G.711 against the standard's tables, validation, resampling."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flushscope.protocol.audio import (
    SAMPLE_RATES,
    AudioFormat,
    AudioFormatError,
    Encoding,
    alaw_decode,
    alaw_encode,
    decode,
    decode_blocks,
    decode_native,
    encode,
    mulaw_decode,
    mulaw_encode,
    resample,
    to_int16,
)

ALL_CODES = np.arange(256, dtype=np.uint8)
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)


# --- G.711 reference model, built from the segment tables of ITU-T G.711 ---------------------------------
#
# Table 2a (mu-law) works on a 14-bit magnitude (16-bit input / 4). Each of the 8 segments holds 16 levels;
# segment s starts at decision value D[s] and steps by 2**(s+1). Segment 0 is special: its first interval
# is [0, 1), which the model expresses as a start of -1 clipped at zero. The reconstruction value is the
# middle of each interval. Table 1a (A-law) works on a 13-bit magnitude (16-bit input / 8) with segments
# starting at 0, 32, 64, ..., 2048 and steps 2, 2, 4, ..., 128.

MULAW_SEG_START = (-1, 31, 95, 223, 479, 991, 2015, 4063)
MULAW_SEG_STEP = (2, 4, 8, 16, 32, 64, 128, 256)
ALAW_SEG_START = (0, 32, 64, 128, 256, 512, 1024, 2048)
ALAW_SEG_STEP = (2, 2, 4, 8, 16, 32, 64, 128)


def _levels(starts: tuple[int, ...], steps: tuple[int, ...]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Lower decision value and reconstruction value of the 128 magnitude levels, in table units."""
    q = np.arange(16)
    lower = np.concatenate([start + q * step for start, step in zip(starts, steps, strict=True)])
    middle = np.concatenate([start + q * step + step / 2 for start, step in zip(starts, steps, strict=True)])
    return lower.astype(np.float64), middle


MULAW_LOWER, MULAW_MIDDLE = _levels(MULAW_SEG_START, MULAW_SEG_STEP)
ALAW_LOWER, ALAW_MIDDLE = _levels(ALAW_SEG_START, ALAW_SEG_STEP)


def ref_mulaw_encode(x: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    wide = x.astype(np.int64)
    # Sign and magnitude, as the standard's input: -1 is a negative magnitude 1, so it lands on "negative 0".
    level = np.searchsorted(MULAW_LOWER, np.abs(wide) / 4, side="right") - 1
    # Positive level n is sent as 0xFF - n, negative as 0x7F - n (all bits inverted, sign bit 1 = positive).
    return np.where(wide >= 0, 0xFF - level, 0x7F - level).astype(np.uint8)


def ref_mulaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    c = codes.astype(np.int64)
    positive = c >= 0x80
    level = np.where(positive, 0xFF - c, 0x7F - c)
    value = MULAW_MIDDLE[level] * 4
    out: npt.NDArray[np.int16] = np.where(positive, value, -value).astype(np.int16)
    return out


def ref_alaw_encode(x: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    wide = x.astype(np.int64)
    # A-law has no zero level: negatives are mirrored by one's complement, as in the ITU-T G.191 code.
    magnitude = np.where(wide >= 0, wide, -wide - 1)
    level = np.searchsorted(ALAW_LOWER, magnitude / 8, side="right") - 1
    # Sign bit 1 = positive, then even bits inverted for transmission.
    return (np.where(wide >= 0, 0x80 | level, level) ^ 0x55).astype(np.uint8)


def ref_alaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    c = codes.astype(np.int64) ^ 0x55
    value = ALAW_MIDDLE[c & 0x7F] * 8
    out: npt.NDArray[np.int16] = np.where(c & 0x80, value, -value).astype(np.int16)
    return out


# Literal pairs, each worked by hand from the tables above (not taken from the implementation).
MULAW_ENCODE_PAIRS = [
    (0, 0xFF),
    (-1, 0x7F),
    (32767, 0x80),
    (-32768, 0x00),
    (100, 0xF2),  # 25 (14-bit) -> segment 0, interval [25, 27) is level 13 -> 0xFF - 13
    (-100, 0x72),
    (123, 0xF0),  # 30.75 -> last level of segment 0
    (124, 0xEF),  # 31 -> first level of segment 1
    (1000, 0xCE),  # 250 -> segment 3 (223 + 16 * 1) -> level 49
    (8000, 0xA0),  # 2000 -> segment 5 (991 + 64 * 15) -> level 95
    (16000, 0x90),  # 4000 -> segment 6 (2015 + 128 * 15) -> level 111
    (32635, 0x80),
]
MULAW_DECODE_PAIRS = [
    (0x00, -32124),
    (0x80, 32124),
    (0xFF, 0),
    (0x7F, 0),
    (0xFE, 8),
    (0x7E, -8),
    (0xF0, 120),
    (0xEF, 132),  # (31 + 2) * 4
    (0xDF, 396),  # (95 + 4) * 4
    (0xCE, 988),  # (223 + 16 + 8) * 4
    (0xA0, 7932),  # (991 + 960 + 32) * 4
    (0x8F, 16764),  # (4063 + 128) * 4
]
ALAW_ENCODE_PAIRS = [
    (0, 0xD5),
    (-1, 0x55),
    (15, 0xD5),
    (16, 0xD4),
    (-16, 0x55),
    (-17, 0x54),
    (255, 0xDA),  # 31 (13-bit) -> level 15 -> 0x8F ^ 0x55
    (256, 0xC5),  # 32 -> level 16 -> 0x90 ^ 0x55
    (1000, 0xFA),  # 125 -> segment 2 (64 + 4 * 15) -> level 47 -> 0xAF ^ 0x55
    (-1000, 0x7A),
    (32767, 0xAA),
    (-32768, 0x2A),
]
ALAW_DECODE_PAIRS = [
    (0xD5, 8),
    (0x55, -8),
    (0xAA, 32256),
    (0x2A, -32256),
    (0xDA, 248),  # (30 + 1) * 8
    (0xC5, 264),  # (32 + 1) * 8
    (0xFA, 1008),  # (64 + 60 + 2) * 8
    (0x80, 5504),  # 0x80 ^ 0x55 = 0xD5: level 85, segment 5 (512 + 32 * 5 + 16) * 8
    (0x00, -5504),
]


def _one(value: int) -> npt.NDArray[np.int16]:
    return np.array([value], dtype=np.int16)


def _code(value: int) -> npt.NDArray[np.uint8]:
    return np.array([value], dtype=np.uint8)


@pytest.mark.parametrize(("linear", "code"), MULAW_ENCODE_PAIRS)
def test_mulaw_encode_known_values(linear: int, code: int) -> None:
    assert int(mulaw_encode(_one(linear))[0]) == code
    assert int(ref_mulaw_encode(_one(linear))[0]) == code


@pytest.mark.parametrize(("code", "linear"), MULAW_DECODE_PAIRS)
def test_mulaw_decode_known_values(code: int, linear: int) -> None:
    assert int(mulaw_decode(_code(code))[0]) == linear
    assert int(ref_mulaw_decode(_code(code))[0]) == linear


@pytest.mark.parametrize(("linear", "code"), ALAW_ENCODE_PAIRS)
def test_alaw_encode_known_values(linear: int, code: int) -> None:
    assert int(alaw_encode(_one(linear))[0]) == code
    assert int(ref_alaw_encode(_one(linear))[0]) == code


@pytest.mark.parametrize(("code", "linear"), ALAW_DECODE_PAIRS)
def test_alaw_decode_known_values(code: int, linear: int) -> None:
    assert int(alaw_decode(_code(code))[0]) == linear
    assert int(ref_alaw_decode(_code(code))[0]) == linear


def test_mulaw_matches_reference_model_everywhere() -> None:
    np.testing.assert_array_equal(mulaw_encode(ALL_INT16), ref_mulaw_encode(ALL_INT16))
    np.testing.assert_array_equal(mulaw_decode(ALL_CODES), ref_mulaw_decode(ALL_CODES))


def test_alaw_matches_reference_model_everywhere() -> None:
    np.testing.assert_array_equal(alaw_encode(ALL_INT16), ref_alaw_encode(ALL_INT16))
    np.testing.assert_array_equal(alaw_decode(ALL_CODES), ref_alaw_decode(ALL_CODES))


def test_mulaw_every_code_round_trips_except_negative_zero() -> None:
    again = mulaw_encode(mulaw_decode(ALL_CODES))
    wrong = np.flatnonzero(again != ALL_CODES)
    # 0x7F ("negative zero") decodes to 0, and 0 always encodes as 0xFF.
    assert wrong.tolist() == [0x7F]
    assert int(again[0x7F]) == 0xFF


def test_alaw_every_code_round_trips() -> None:
    np.testing.assert_array_equal(alaw_encode(alaw_decode(ALL_CODES)), ALL_CODES)


@pytest.mark.parametrize("decoder", [mulaw_decode, alaw_decode])
def test_g711_decoding_is_odd_symmetric(decoder: Any) -> None:
    flipped = ALL_CODES ^ np.uint8(0x80)
    np.testing.assert_array_equal(decoder(flipped), -decoder(ALL_CODES).astype(np.int32))


def test_mulaw_decoding_is_monotonic_in_each_half() -> None:
    linear = mulaw_decode(ALL_CODES).astype(np.int32)
    assert np.all(np.diff(linear[:0x80]) > 0)  # 0x00 (most negative) up to 0x7F (negative zero)
    assert np.all(np.diff(linear[0x80:]) < 0)  # 0x80 (most positive) down to 0xFF (zero)


def test_alaw_decoding_is_monotonic_in_each_half() -> None:
    # The even-bit inversion scrambles the raw order; the level order is the code with it undone.
    by_level = ALL_CODES ^ np.uint8(0x55)
    linear = alaw_decode(by_level).astype(np.int32)
    assert np.all(np.diff(linear[:0x80]) < 0)  # negative half: larger level, larger magnitude
    assert np.all(np.diff(linear[0x80:]) > 0)


def test_g711_encoding_is_symmetric() -> None:
    positive = np.arange(1, 32768, dtype=np.int16)
    np.testing.assert_array_equal(mulaw_encode(-positive), mulaw_encode(positive) ^ np.uint8(0x80))
    nonneg = np.arange(0, 32768, dtype=np.int16)
    np.testing.assert_array_equal(alaw_encode(~nonneg), alaw_encode(nonneg) ^ np.uint8(0x80))


@pytest.mark.parametrize("encoding", [Encoding.PCM_MULAW, Encoding.PCM_ALAW])
@pytest.mark.parametrize("amplitude", [0.1, 0.5, 0.95])
def test_g711_sine_snr_above_35_db(encoding: Encoding, amplitude: float) -> None:
    t = np.arange(8000) / 8000.0
    sine = (amplitude * np.sin(2 * np.pi * 1013.0 * t)).astype(np.float32)
    back = decode(encode(sine, encoding), encoding)
    noise = back.astype(np.float64) - sine
    snr = 10 * np.log10(np.sum(sine.astype(np.float64) ** 2) / np.sum(noise**2))
    assert snr > 35.0


def test_g711_functions_reject_wrong_dtypes() -> None:
    with pytest.raises(TypeError):
        mulaw_encode(np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError):
        alaw_decode(np.zeros(3, dtype=np.int16))


# --- byte round trips ------------------------------------------------------------------------------------


def test_s16le_round_trips_every_value() -> None:
    data = ALL_INT16.astype("<i2").tobytes()
    assert encode(decode(data, Encoding.PCM_S16LE), Encoding.PCM_S16LE) == data
    assert encode(to_int16(data, Encoding.PCM_S16LE), Encoding.PCM_S16LE) == data


@pytest.mark.parametrize("encoding", [Encoding.PCM_MULAW, Encoding.PCM_ALAW])
def test_g711_bytes_round_trip_through_float(encoding: Encoding) -> None:
    data = ALL_CODES.tobytes()
    expected = bytearray(data)
    if encoding is Encoding.PCM_MULAW:
        expected[0x7F] = 0xFF
    assert encode(decode(data, encoding), encoding) == bytes(expected)
    assert encode(to_int16(data, encoding), encoding) == bytes(expected)


@given(st.lists(st.floats(min_value=-1.0, max_value=1.0, width=32), max_size=300))
def test_f32le_round_trips_finite_values_in_range(values: list[float]) -> None:
    data = np.array(values, dtype="<f4").tobytes()
    assert encode(decode(data, Encoding.PCM_F32LE), Encoding.PCM_F32LE) == data


def test_f32le_edge_values_round_trip_bit_exact() -> None:
    values = np.array([0.0, -0.0, 1.0, -1.0, 1e-45, -1e-45, 0.5, np.nextafter(1, 0)], dtype="<f4")
    data = values.tobytes()
    assert encode(decode(data, Encoding.PCM_F32LE), Encoding.PCM_F32LE) == data


def test_float_int16_scaling() -> None:
    floats = [0.0, 1.0, -1.0, 2.0, -3.0, 0.5, -0.5, 1 / 32768, 0.4 / 32768]
    expected = [0, 32767, -32768, 32767, -32768, 16384, -16384, 1, 0]
    for dtype in (np.float16, np.float32, np.float64):
        samples: npt.NDArray[np.floating[Any]] = np.array(floats, dtype=dtype)
        pcm = np.frombuffer(encode(samples, Encoding.PCM_S16LE), dtype="<i2")
        assert pcm.tolist() == expected, dtype
    pcm_bytes = np.array([-32768, 16384], dtype="<i2").tobytes()
    assert decode(pcm_bytes, Encoding.PCM_S16LE).tolist() == [-1.0, 0.5]


def test_f32le_decode_keeps_nan_and_inf_and_conversions_tame_them() -> None:
    raw = np.array([np.nan, np.inf, -np.inf, 3.0e38, 0.25], dtype="<f4").tobytes()
    floats = decode(raw, Encoding.PCM_F32LE)
    assert np.isnan(floats[0]) and floats[1] == np.inf and floats[2] == -np.inf
    assert to_int16(raw, Encoding.PCM_F32LE).tolist() == [0, 32767, -32768, 32767, 8192]
    assert np.frombuffer(encode(floats, Encoding.PCM_F32LE), "<f4").tolist() == [0.0, 1.0, -1.0, 1.0, 0.25]
    pcm = np.frombuffer(encode(floats, Encoding.PCM_S16LE), "<i2")
    assert pcm.tolist() == [0, 32767, -32768, 32767, 8192]


@pytest.mark.parametrize("encoding", list(Encoding))
def test_int16_input_encodes_like_its_float_value(encoding: Encoding) -> None:
    pcm = np.array([-32768, -1000, -1, 0, 1, 77, 32767], dtype=np.int16)
    floats = pcm.astype(np.float64) / 32768.0
    assert encode(pcm, encoding) == encode(floats, encoding)


def test_encode_rejects_non_mono_and_integer_types() -> None:
    with pytest.raises(ValueError, match="mono"):
        encode(np.zeros((2, 3), dtype=np.float32), Encoding.PCM_S16LE)
    with pytest.raises(TypeError):
        encode(np.zeros(3, dtype=np.int32), Encoding.PCM_S16LE)  # type: ignore[arg-type]


def test_decode_native_is_a_zero_copy_view() -> None:
    buf = bytearray(np.array([1, -2, 3], dtype="<i2").tobytes() + b"\x07")
    view = decode_native(buf, Encoding.PCM_S16LE)
    assert view.dtype == np.dtype("<i2") and view.tolist() == [1, -2, 3]
    assert np.shares_memory(view, np.frombuffer(buf, dtype=np.uint8))
    for encoding in Encoding:
        assert decode_native(b"\x00" * 8, encoding).dtype == encoding.native_dtype


def test_decode_accepts_memoryview_and_ignores_partial_tail() -> None:
    data = memoryview(np.array([0.5, -0.25], dtype="<f4").tobytes() + b"\x01\x02\x03")
    assert decode(data, Encoding.PCM_F32LE).tolist() == [0.5, -0.25]
    assert decode(b"", Encoding.PCM_S16LE).shape == (0,)


@pytest.mark.parametrize("encoding", list(Encoding))
@given(data=st.binary(max_size=513), cuts=st.lists(st.integers(0, 513), max_size=6))
def test_blocks_decode_as_their_bytes_joined(encoding: Encoding, data: bytes, cuts: list[int]) -> None:
    # Cut anywhere, a sample included: what is carried over gives the samples of the whole, the last partial
    # one left out.
    edges = sorted(min(c, len(data)) for c in cuts)
    blocks = [data[a:b] for a, b in zip([0, *edges], [*edges, len(data)], strict=True)]
    for convert in (decode, to_int16):
        parts = list(decode_blocks(iter(blocks), encoding, convert))
        joined = np.concatenate(parts) if parts else convert(b"", encoding)
        assert joined.tolist() == convert(data, encoding).tolist()
        assert all(len(part) for part in parts)


@pytest.mark.parametrize("encoding", list(Encoding))
@given(data=st.binary(max_size=513))
def test_arbitrary_bytes_always_decode(encoding: Encoding, data: bytes) -> None:
    n = len(data) // encoding.sample_width
    floats = decode(data, encoding)
    assert floats.dtype == np.float32 and floats.shape == (n,)
    assert to_int16(data, encoding).shape == (n,)
    assert decode_native(data, encoding).shape == (n,)
    if encoding is not Encoding.PCM_F32LE:
        assert np.all(np.abs(floats) <= 1.0)


def test_encoding_properties() -> None:
    assert [e.sample_width for e in Encoding] == [4, 2, 1, 1]
    assert [e.native_dtype for e in Encoding] == [np.dtype(t) for t in ("<f4", "<i2", "u1", "u1")]
    assert Encoding("pcm_mulaw") is Encoding.PCM_MULAW and str(Encoding.PCM_ALAW) == "pcm_alaw"


# --- AudioFormat -----------------------------------------------------------------------------------------


def test_audio_format_json_round_trip() -> None:
    for encoding in Encoding:
        for rate in SAMPLE_RATES:
            obj = {"container": "raw", "encoding": encoding.value, "sample_rate": rate}
            fmt = AudioFormat.from_json(obj)
            assert fmt == AudioFormat(encoding, rate)
            assert fmt.to_json() == obj
    # Unknown keys are tolerated, and a string encoding is stored as the enum.
    fmt = AudioFormat.from_json({"container": "raw", "encoding": "pcm_alaw", "sample_rate": 8000, "x": 1})
    assert fmt.encoding is Encoding.PCM_ALAW
    assert AudioFormat("pcm_s16le", 16000) == AudioFormat(Encoding.PCM_S16LE, 16000)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"container": "raw", "encoding": "pcm_s24le", "sample_rate": 24000}, "encoding"),
        ({"container": "raw", "encoding": 3, "sample_rate": 24000}, "encoding"),
        ({"container": "raw", "encoding": "PCM_S16LE", "sample_rate": 24000}, "encoding"),
        ({"container": "raw", "encoding": "pcm_s16le", "sample_rate": 11025}, "sample_rate"),
        ({"container": "raw", "encoding": "pcm_s16le", "sample_rate": "24000"}, "sample_rate"),
        ({"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000.0}, "sample_rate"),
        ({"container": "raw", "encoding": "pcm_s16le", "sample_rate": True}, "sample_rate"),
        ({"container": "wav", "encoding": "pcm_s16le", "sample_rate": 24000}, "container"),
        ({"container": "mp3", "encoding": "pcm_s16le", "sample_rate": 24000}, "container"),
        ({"encoding": "pcm_s16le", "sample_rate": 24000}, "container"),
        ({"container": "raw", "sample_rate": 24000}, "encoding"),
        ({"container": "raw", "encoding": "pcm_s16le"}, "sample_rate"),
    ],
)
def test_audio_format_rejects_bad_fields(obj: dict[str, object], field: str) -> None:
    with pytest.raises(AudioFormatError, match=field) as info:
        AudioFormat.from_json(obj)
    assert info.value.field == field


@pytest.mark.parametrize("obj", [None, "pcm_s16le", ["raw", "pcm_s16le", 24000], 24000])
def test_audio_format_rejects_non_objects(obj: object) -> None:
    with pytest.raises(AudioFormatError, match="output_format"):
        AudioFormat.from_json(obj)


def test_audio_format_constructor_validates_too() -> None:
    with pytest.raises(AudioFormatError, match="sample_rate"):
        AudioFormat(Encoding.PCM_S16LE, 11025)
    with pytest.raises(AudioFormatError, match="container"):
        AudioFormat(Encoding.PCM_S16LE, 24000, container="wav")
    with pytest.raises(AudioFormatError, match="encoding"):
        AudioFormat("pcm_u8", 24000)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("encoding", "rate", "nbytes", "samples", "seconds"),
    [
        (Encoding.PCM_S16LE, 24000, 48000, 24000, 1.0),
        (Encoding.PCM_S16LE, 24000, 48001, 24000, 1.0),  # the odd byte is not a sample
        (Encoding.PCM_F32LE, 44100, 44100 * 4 // 2 + 3, 22050, 0.5),
        (Encoding.PCM_F32LE, 48000, 3, 0, 0.0),
        (Encoding.PCM_MULAW, 8000, 8000, 8000, 1.0),
        (Encoding.PCM_ALAW, 16000, 4000, 4000, 0.25),
        (Encoding.PCM_S16LE, 22050, 2205, 1102, 1102 / 22050),
    ],
)
def test_audio_format_durations(
    encoding: Encoding, rate: int, nbytes: int, samples: int, seconds: float
) -> None:
    fmt = AudioFormat(encoding, rate)
    assert fmt.samples_in(nbytes) == samples
    assert fmt.duration(nbytes) == pytest.approx(seconds, abs=1e-12)


def test_audio_format_bytes_for() -> None:
    assert AudioFormat(Encoding.PCM_S16LE, 24000).bytes_for(1.0) == 48000
    assert AudioFormat(Encoding.PCM_F32LE, 44100).bytes_for(0.3) == 13230 * 4
    assert AudioFormat(Encoding.PCM_MULAW, 8000).bytes_for(0.0) == 0
    fmt = AudioFormat(Encoding.PCM_F32LE, 22050)
    for seconds in (0.1, 0.25, 1.7, 3.0):
        nbytes = fmt.bytes_for(seconds)
        assert nbytes % 4 == 0
        assert fmt.duration(nbytes) == pytest.approx(seconds, abs=0.5 / 22050 + 1e-12)
    with pytest.raises(ValueError):
        fmt.bytes_for(-1.0)
    with pytest.raises(ValueError):
        fmt.samples_in(-1)


# --- resampling ------------------------------------------------------------------------------------------


def _peak_hz(samples: npt.NDArray[Any], rate: int) -> float:
    x = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=8 * len(x)))
    return float(np.argmax(spectrum)) * rate / (8 * len(x))


def _sine(rate: int, seconds: float = 1.0, hz: float = 440.0) -> npt.NDArray[np.float32]:
    t = np.arange(round(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("dst", SAMPLE_RATES)
def test_resample_keeps_frequency_and_length(dst: int) -> None:
    src = 22050
    sine = _sine(src)
    out = resample(sine, src, dst)
    assert out.dtype == np.float32
    assert abs(len(out) - len(sine) * dst / src) <= 1
    assert _peak_hz(out, dst) == pytest.approx(440.0, abs=2.0)
    # Away from the edges the level is unchanged: the passband is flat at 440 Hz.
    middle = out[len(out) // 4 : 3 * len(out) // 4].astype(np.float64)
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_resample_int16_stays_int16() -> None:
    pcm = np.round(_sine(22050) * 32767).astype(np.int16)
    out = resample(pcm, 22050, 48000)
    assert out.dtype == np.int16
    assert _peak_hz(out, 48000) == pytest.approx(440.0, abs=2.0)


def test_resample_same_rate_is_identity() -> None:
    sine = _sine(24000, 0.1)
    assert resample(sine, 24000, 24000) is sine
    widened = resample(sine.astype(np.float64), 24000, 24000)
    assert widened.dtype == np.float32


def test_resample_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        resample(_sine(8000, 0.1), 0, 8000)
    with pytest.raises(ValueError):
        resample(np.zeros((4, 2), dtype=np.float32), 8000, 16000)
    with pytest.raises(TypeError):
        resample(np.zeros(4, dtype=np.int32), 8000, 16000)
