"""Scenario scripts and generation settings: what parses to what, and every error with its line."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flushscope.core.inputs.generation_settings import (
    DEFAULT_VOICE_ID,
    ENCODINGS,
    SAMPLE_RATES,
    SETTING_KEYS,
    GenerationSettings,
    SettingsError,
)
from flushscope.core.inputs.scenario import (
    Cancel,
    End,
    Flush,
    Raw,
    Scenario,
    ScenarioError,
    ScenarioLineError,
    Send,
    SendFlush,
    SetOption,
    UseContext,
    Wait,
    load_scenario,
    parse_scenario,
)

DESIGN_EXAMPLE = """\
# comments and blank lines are ignored
context a             # switch to (or create) context "a"; the real context_id is generated
send Hello there.     # transcript, continue=true
flush                 # empty transcript, continue=true, flush=true
send How are you?
flush
end                   # empty transcript, continue=false
wait 300ms
cancel                # cancel the current context
"""


def steps(script: str) -> tuple[object, ...]:
    return parse_scenario(script).steps


def errors(script: str) -> list[tuple[int, str]]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(script, "s.txt")
    return [(e.line, e.message) for e in info.value.errors]


def only_error(script: str) -> tuple[int, str]:
    found = errors(script)
    assert len(found) == 1, found
    return found[0]


# --- what parses to what ------------------------------------------------------------------------------


def test_design_example() -> None:
    scenario = parse_scenario(DESIGN_EXAMPLE, "design.txt")
    assert scenario.name == "design.txt"
    assert scenario.contexts == ("a",)
    assert scenario.steps == (
        UseContext(line=2, context="a", context_id=None, creates=True),
        # A send line's payload is everything after the command: transcripts may contain "#".
        Send("Hello there.     # transcript, continue=true", line=3, context="a"),
        Flush(line=4, context="a"),
        Send("How are you?", line=5, context="a"),
        Flush(line=6, context="a"),
        End(line=7, context="a"),
        Wait(0.3, line=8, context="a"),
        Cancel(line=9, context="a"),
    )


def test_quoted_transcript_may_carry_a_comment() -> None:
    assert steps('context a\nsend "Hello there. "   # transcript, continue=true')[1] == Send(
        "Hello there. ", line=2, context="a"
    )


def test_every_step_kind() -> None:
    script = """
        set voice v-123
        context a id=ctx-fixed.1
        sendflush One.
        send+flush Two.
        raw {"context_id": "x", "transcript": "# not a comment", "continue": true}
        context b
        set speed 1.25
        send Three.
        context a
        wait 0
        end
    """
    assert parse_scenario(script).steps == (
        SetOption("voice", "v-123", line=2, context="default"),
        UseContext(line=3, context="a", context_id="ctx-fixed.1", creates=True),
        SendFlush("One.", line=4, context="a"),
        SendFlush("Two.", line=5, context="a"),
        Raw('{"context_id": "x", "transcript": "# not a comment", "continue": true}', line=6, context="a"),
        UseContext(line=7, context="b", creates=True),
        SetOption("speed", "1.25", line=8, context="b"),
        Send("Three.", line=9, context="b"),
        UseContext(line=10, context="a", context_id="ctx-fixed.1"),
        Wait(0.0, line=11, context="a"),
        End(line=12, context="a"),
    )
    assert parse_scenario(script).contexts == ("a", "b")


def test_steps_know_their_line_and_context_name() -> None:
    step = steps("context z\nsend x")[1]
    assert isinstance(step, Send)
    assert (step.line, step.context, step.text) == (2, "z", "x")
    use = steps("context z")[0]
    assert isinstance(use, UseContext)
    assert use.name == "z"


def test_steps_before_any_context_use_an_implicit_default_context() -> None:
    script = "set model sonic-2\nwait 1s\nsend Hi\nflush\ncontext b\nsend Yo\ncontext default\nend"
    scenario = parse_scenario(script)
    assert scenario.contexts == ("default", "b")
    assert scenario.steps[:5] == (
        SetOption("model", "sonic-2", line=1, context="default"),
        Wait(1.0, line=2, context="default"),
        UseContext(line=3, context="default", creates=True, implicit=True),
        Send("Hi", line=3, context="default"),
        Flush(line=4, context="default"),
    )
    assert scenario.steps[-2:] == (UseContext(line=7, context="default"), End(line=8, context="default"))


def test_wait_raw_and_set_do_not_create_the_default_context() -> None:
    scenario = parse_scenario('wait 1s\nraw {"a": 1}\nset speed 1')
    assert scenario.contexts == ()
    assert not any(isinstance(step, UseContext) for step in scenario.steps)


def test_empty_script_has_no_steps() -> None:
    assert parse_scenario("\n# nothing\n   \n") == Scenario((), (), "<script>")


def test_settings_apply_to_contexts_created_after_them() -> None:
    script = """
        send default voice
        set voice v2
        context a
        set speed 1.5
        send a keeps v2 without speed
        context b
        send b has both
    """
    scenario = parse_scenario(script)
    base = GenerationSettings(model_id="sonic-3.5")
    per_context = scenario.context_settings(base)
    assert per_context == {
        "default": base,
        "a": GenerationSettings(model_id="sonic-3.5", voice_id="v2"),
        "b": GenerationSettings(model_id="sonic-3.5", voice_id="v2", speed=1.5),
    }
    assert scenario.context_settings()["default"] == GenerationSettings()


def test_commands_are_case_insensitive() -> None:
    assert steps("SEND Hi\nFlush\nSet Timestamps OFF\nWAIT 2S")[1:] == (
        Send("Hi", line=1, context="default"),
        Flush(line=2, context="default"),
        SetOption("timestamps", "OFF", line=3, context="default"),
        Wait(2.0, line=4, context="default"),
    )


def test_line_endings_bom_and_unicode_line_separators() -> None:
    scenario = parse_scenario("\ufeffsend a\u2028b\r\nflush\r\n\x0bsend c\x0c")
    assert scenario.steps[1:] == (
        Send("a\u2028b", line=1, context="default"),
        Flush(line=2, context="default"),
        Send("c", line=3, context="default"),
    )


# --- transcripts and comments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("send Hello there.", "Hello there."),
        ("send    spaced   inside   ", "spaced   inside"),
        ("send\tHi\tthere", "Hi\tthere"),
        ('send "Hello there. "', "Hello there. "),
        ('send "  lead and trail  "', "  lead and trail  "),
        ('send "He said \\"hi\\"\\nthen left \\u00e9 \\\\ \\/"', 'He said "hi"\nthen left é \\ /'),
        ('send "tab\there"', "tab\there"),
        ('send " "', " "),
        ('send "#5"', "#5"),
        ('send "x"\t# comment', "x"),
        ("send It costs #5", "It costs #5"),
        ("send Hi # not a comment", "Hi # not a comment"),
        ('send He said "hi"', 'He said "hi"'),
        ('send "\\"Hi,\\" she said."', '"Hi," she said.'),
        ("send #hashtag", "#hashtag"),
    ],
)
def test_transcripts(line: str, text: str) -> None:
    assert steps(line)[1] == Send(text, line=1, context="default")


def test_sendflush_uses_the_same_transcript_rules() -> None:
    assert steps('sendflush "a "')[1] == SendFlush("a ", line=1, context="default")


@pytest.mark.parametrize(
    "script",
    [
        "flush # a comment",
        "flush\t#comment",
        "  # indented comment\nflush",
        "flush #",
        "context x # note\nflush",
    ],
)
def test_comments_on_other_lines(script: str) -> None:
    assert isinstance(steps(script)[-1], Flush)


def test_hash_not_after_whitespace_is_part_of_the_argument() -> None:
    assert steps("set voice abc#def")[0] == SetOption("voice", "abc#def", line=1, context="default")
    assert only_error("context a#b")[1].startswith("bad context name 'a#b'")
    assert only_error("flush#")[1].startswith("unknown command 'flush#'")


# --- wait ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("300ms", 0.3),
        ("1.5s", 1.5),
        ("2s", 2.0),
        ("0", 0.0),
        ("0.0", 0.0),
        ("0ms", 0.0),
        (".5s", 0.5),
        ("250 ms", 0.25),
        ("600s", 600.0),
        ("600000ms", 600.0),
        ("2S", 2.0),
    ],
)
def test_wait_durations(duration: str, seconds: float) -> None:
    step = steps(f"wait {duration}")[0]
    assert isinstance(step, Wait)
    assert math.isclose(step.seconds, seconds)


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("", "wait needs a duration"),
        ("5", "give wait a unit: 5s or 5ms"),
        ("-1s", "wait needs a duration"),
        ("1m", "wait needs a duration"),
        ("abc", "wait needs a duration"),
        ("1s 2s", "wait needs a duration"),
        ("nan s", "wait needs a duration"),
        ("600.001s", "at most 10 minutes"),
        ("1" * 400 + "s", "at most 10 minutes"),
    ],
)
def test_wait_errors(duration: str, message: str) -> None:
    line, found = only_error(f"wait {duration}")
    assert line == 1
    assert message in found


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "line", "message"),
    [
        ("flush\nflsh", 2, "unknown command 'flsh' (did you mean 'flush'?)"),
        ("xyzzy", 1, "unknown command 'xyzzy'; the commands are context, send"),
        ("send", 1, "send needs a transcript; for an empty one use flush or end"),
        ("send   ", 1, "send needs a transcript"),
        ('send ""', 1, "send needs a transcript"),
        ("sendflush", 1, "sendflush needs a transcript"),
        ('send "unclosed', 1, "bad quoted transcript: Unterminated string"),
        ('send "bad \\q escape"', 1, "bad quoted transcript: Invalid \\escape"),
        ('send "a" b', 1, "unexpected 'b' after the closing quote"),
        ('send "a"# c', 1, "unexpected '# c' after the closing quote"),
        ('send "\\ud800"', 1, "half of a surrogate pair"),
        ("flush now", 1, "flush takes no arguments, found 'now'"),
        ("end 1", 1, "end takes no arguments"),
        ("cancel all", 1, "cancel takes no arguments"),
        ("context", 1, "context needs a name"),
        ("context a/b", 1, "bad context name 'a/b'"),
        ("context " + "x" * 65, 1, "bad context name"),
        ("context a b", 1, "unexpected 'b' after the context name"),
        ("context a id=", 1, "id= needs a printable context_id"),
        ("context a id=x id=x", 1, "id= is given twice"),
        (
            "context a id=1\ncontext a id=2",
            2,
            "context a was created on line 1 with id 1; its id cannot change",
        ),
        ("context a\ncontext a id=2", 2, "context a was created on line 1 with a generated id"),
        ("context a\nend\nsend x", 3, "context a was already ended on line 2"),
        ("context a\nend\nflush", 3, "context a was already ended on line 2"),
        ("context a\nend\nsendflush x", 3, "context a was already ended on line 2"),
        ("context a\nend\nend", 3, "context a was already ended on line 2"),
        ("context a\nend\ncontext b\ncontext a", 4, "context a was already ended on line 2"),
        ("context a\ncancel\nsend x", 3, "context a was cancelled on line 2; send cannot follow"),
        ("context a\ncancel\ncancel", 3, "context a was cancelled on line 2; cancel cannot follow"),
        ("send x\nend\nend", 3, "context default was already ended on line 2"),
        ("context a\nend\ncancel\nend", 4, "context a was cancelled on line 3"),
        ("context a\ncancel\ncontext a", 3, "context a was cancelled on line 2"),
        ("set", 1, "set needs a setting and a value"),
        ("set voice", 1, "set needs a setting and a value"),
        ("set colour red", 1, "unknown setting 'colour'"),
        ("set encoding mp3", 1, "encoding must be one of pcm_f32le, pcm_s16le, pcm_mulaw, pcm_alaw"),
        ("set sample_rate 44000", 1, "sample_rate must be one of 8000, 16000"),
        ("set sample_rate fast", 1, "sample_rate must be an integer"),
        ("set timestamps maybe", 1, "timestamps must be on or off"),
        ("set phonemes 1", 1, "phonemes must be on or off"),
        ("set max_buffer_delay_ms 5001", 1, "max_buffer_delay_ms must be an integer from 0 to 5000"),
        ("set max_buffer_delay_ms -1", 1, "max_buffer_delay_ms must be an integer from 0 to 5000"),
        ("set max_buffer_delay_ms 1.5", 1, "max_buffer_delay_ms must be an integer"),
        ("set speed fast", 1, "speed must be a number"),
        ("set speed 0", 1, "speed must be a positive number"),
        ("set speed inf", 1, "speed must be a positive number"),
        ("set model sonic 3", 1, "model must be a non-empty id"),
        ("set language english!", 1, "language must be a language code"),
        ("raw", 1, "raw needs a JSON frame"),
        ("raw {not json}", 1, "raw needs valid JSON"),
        ('raw {"a": 1} # comment', 1, "raw needs valid JSON: Extra data"),
        ('raw {"a": NaN}', 1, "NaN is not JSON"),
        ("raw " + "[" * 50_000 + "]" * 50_000, 1, "raw needs valid JSON"),
        ("raw " + "1" * 5000, 1, "raw needs valid JSON"),
    ],
)
def test_each_error_names_its_line(script: str, line: int, message: str) -> None:
    found = errors(script)
    assert [n for n, _ in found] == [line]
    assert message in found[0][1]


def test_cancel_after_end_is_allowed() -> None:
    assert isinstance(steps("context a\nend\ncancel")[-1], Cancel)


def test_reusing_an_explicit_context_id_under_another_name_is_allowed() -> None:
    scenario = parse_scenario("context a id=same\nend\ncontext b id=same\nsend x")
    assert scenario.contexts == ("a", "b")


def test_all_errors_are_reported_together() -> None:
    script = "context a\nflsh\nsend ok\nwait 5\n\nset speed x\nend\nsend late\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(script, "many.txt")
    error = info.value
    assert error.name == "many.txt"
    assert [e.line for e in error.errors] == [2, 4, 6, 8]
    assert error.errors[0] == ScenarioLineError(2, "flsh", "unknown command 'flsh' (did you mean 'flush'?)")
    text = str(error)
    assert text.splitlines()[0] == "many.txt: 4 errors in the script"
    assert "line 4: give wait a unit: 5s or 5ms\n    wait 5" in text


def test_bad_context_line_still_switches_so_later_lines_are_not_misreported() -> None:
    found = errors("context a\nend\ncontext b id=\nsend x\nend")
    assert found == [(3, "id= needs a printable context_id of 1 to 256 characters")]


def test_long_line_is_shortened_in_the_message() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario("bogus " + "x" * 500)
    assert len(str(info.value).splitlines()[-1]) < 130


# --- files --------------------------------------------------------------------------------------------


def test_load_scenario(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_bytes("\ufeffcontext a\nsend café\n".encode())
    scenario = load_scenario(path)
    assert scenario.name == str(path)
    assert scenario.steps[1] == Send("café", line=2, context="a")


def test_load_scenario_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the script") as info:
        load_scenario(tmp_path / "nope.txt")
    assert info.value.errors == []


def test_load_scenario_bad_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_bytes(b"context a\nsend caf\xe9\nflush\n")
    with pytest.raises(ScenarioError, match="not UTF-8") as info:
        load_scenario(path)
    assert info.value.errors == [
        ScenarioLineError(2, "send caf\ufffd", "not UTF-8 text (bad byte at column 9)")
    ]


def test_load_scenario_reports_parse_errors_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("flush\nnope\n")
    with pytest.raises(ScenarioError, match=r"s\.txt: 1 error in the script") as info:
        load_scenario(path)
    assert info.value.errors[0].line == 2


# --- random input -------------------------------------------------------------------------------------

WORDS = ["context", "send", "sendflush", "send+flush", "flush", "end", "cancel", "wait", "set", "raw", "#"]
ARGS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["a", "b", "id=x", "300ms", '"q \\" "', '{"a": 1}', "speed 1", "voice v", "#", "0"]),
)


@settings(max_examples=400)
@given(st.text())
def test_random_text_raises_nothing_but_scenario_error(text: str) -> None:
    with contextlib.suppress(ScenarioError):
        parse_scenario(text)


@settings(max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(WORDS), ARGS), max_size=15))
def test_random_scripts_raise_nothing_but_scenario_error(lines: list[tuple[str, str]]) -> None:
    script = "\n".join(f"{word} {arg}" for word, arg in lines)
    try:
        scenario = parse_scenario(script)
    except ScenarioError as exc:
        assert exc.errors
        assert all(1 <= e.line <= script.count("\n") + 1 for e in exc.errors)
    else:
        scenario.context_settings()


# --- generation settings ------------------------------------------------------------------------------


def test_settings_defaults_and_request_fields() -> None:
    defaults = GenerationSettings()
    assert defaults.voice_id == DEFAULT_VOICE_ID == "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"
    assert defaults.request_fields() == {
        "model_id": "sonic-3",
        "voice": {"mode": "id", "id": "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"},
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
        "language": "en",
        "add_timestamps": True,
        "add_phoneme_timestamps": False,
        "max_buffer_delay_ms": 0,
    }


def test_settings_apply_every_key() -> None:
    settings_ = GenerationSettings()
    for key, value in [
        ("model", "sonic-3.5"),
        ("voice", "voice-123"),
        ("language", "es-MX"),
        ("encoding", "PCM_F32LE"),
        ("sample_rate", "44100"),
        ("timestamps", "off"),
        ("phonemes", "On"),
        ("max_buffer_delay_ms", "3000"),
        ("speed", "1.2"),
    ]:
        settings_ = settings_.apply(key, value)
    assert settings_ == GenerationSettings(
        model_id="sonic-3.5",
        voice_id="voice-123",
        language="es-MX",
        encoding="pcm_f32le",
        sample_rate=44100,
        add_timestamps=False,
        add_phoneme_timestamps=True,
        max_buffer_delay_ms=3000,
        speed=1.2,
    )
    assert settings_.request_fields() == {
        "model_id": "sonic-3.5",
        "voice": {"mode": "id", "id": "voice-123"},
        "output_format": {"container": "raw", "encoding": "pcm_f32le", "sample_rate": 44100},
        "language": "es-MX",
        "add_timestamps": False,
        "add_phoneme_timestamps": True,
        "max_buffer_delay_ms": 3000,
        "generation_config": {"speed": 1.2},
    }
    assert settings_.apply("speed", "none").speed is None
    assert GenerationSettings().apply("timestamps", "false").add_timestamps is False


def test_request_fields_are_fresh_objects() -> None:
    settings_ = GenerationSettings(speed=1.0)
    fields = settings_.request_fields()
    fields["voice"]["id"] = "changed"
    fields["output_format"]["sample_rate"] = 1
    fields["generation_config"]["speed"] = 9
    assert settings_.request_fields()["voice"]["id"] == DEFAULT_VOICE_ID
    assert settings_.request_fields()["output_format"]["sample_rate"] == 24000
    assert settings_.request_fields()["generation_config"] == {"speed": 1.0}


def test_apply_returns_a_copy() -> None:
    original = GenerationSettings()
    changed = original.apply("model", "sonic-2")
    assert original.model_id == "sonic-3"
    assert changed.model_id == "sonic-2"
    assert SETTING_KEYS[0] == "model"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"encoding": "mp3"},
        {"sample_rate": 44000},
        {"sample_rate": True},
        {"sample_rate": 24000.0},
        {"max_buffer_delay_ms": 5001},
        {"max_buffer_delay_ms": False},
        {"speed": float("nan")},
        {"speed": -1.0},
        {"speed": True},
        {"add_timestamps": 1},
        {"model_id": ""},
        {"voice_id": "has space"},
        {"voice_id": "ü"},
        {"language": ""},
    ],
)
def test_settings_are_checked_on_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(SettingsError):
        GenerationSettings(**kwargs)  # type: ignore[arg-type]


def test_settings_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown setting 'nope'"):
        GenerationSettings().apply("nope", "1")


def test_encodings_and_rates_agree_with_the_audio_module() -> None:
    audio = pytest.importorskip("flushscope.protocol.audio")
    assert set(ENCODINGS) == {e.value for e in audio.Encoding}
    assert tuple(SAMPLE_RATES) == tuple(audio.SAMPLE_RATES)
