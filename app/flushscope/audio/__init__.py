"""Audio out: playback through sounddevice and WAV export."""
