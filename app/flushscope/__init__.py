"""flushscope: an inspector for Cartesia TTS WebSocket contexts and manual flushes."""

__version__ = "0.1.0"
