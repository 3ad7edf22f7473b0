"""The embedded Cartesia emulator: a local stand-in for the streaming TTS WebSocket API."""
