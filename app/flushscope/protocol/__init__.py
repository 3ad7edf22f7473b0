"""The Cartesia TTS WebSocket protocol: typed messages and audio formats. Qt-free and I/O-free."""
