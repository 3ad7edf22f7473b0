"""Fixtures shared by the integration and GUI tests: PortAudio playing into a file, or finding no device
(the helpers that compare what was played are in :mod:`audio_sink`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from audio_sink import ALSA_FILE_CONF, ALSA_NO_CARD_CONF, alsa_config

# No test reads or writes the user's own window settings: windows started by a test (in this process or
# another) keep theirs in a file of the run's own.
os.environ["FLUSHSCOPE_SETTINGS"] = str(Path(tempfile.mkdtemp(prefix="flushscope-tests-")) / "settings.ini")


@pytest.fixture
def alsa_file(tmp_path: Path) -> Iterator[Path]:
    """ALSA's default device writes raw samples to the returned path."""
    out = tmp_path / "out.raw"
    conf = tmp_path / "asound.conf"
    conf.write_text(ALSA_FILE_CONF.format(out=out))
    with alsa_config(conf):
        yield out


@pytest.fixture
def no_card(tmp_path: Path) -> Iterator[None]:
    """ALSA's default device is a sound card that is not there."""
    conf = tmp_path / "asound.conf"
    conf.write_text(ALSA_NO_CARD_CONF)
    with alsa_config(conf):
        yield
