"""asyncio adapters around the core: the TTS client and the recording proxy."""
