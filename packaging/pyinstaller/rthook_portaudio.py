"""Runtime hook of the bundle: sounddevice finds the PortAudio library shipped inside the bundle.

On Linux sounddevice asks ``ctypes.util.find_library("portaudio")``, which reads the system's linker cache
only, so a machine without libportaudio2 would get "PortAudio library not found" although the bundle holds
the library. Wheels for Windows and macOS carry their own PortAudio, which sounddevice loads by path.
"""

import ctypes.util
import glob
import os
import sys

if sys.platform.startswith("linux"):
    _system_find_library = ctypes.util.find_library

    def _bundled_first(name: str) -> str | None:
        if name == "portaudio":
            bundled = sorted(glob.glob(os.path.join(sys._MEIPASS, "libportaudio.so*")))  # type: ignore[attr-defined]
            if bundled:
                return bundled[0]
        return _system_find_library(name)

    ctypes.util.find_library = _bundled_first
