"""The store: a session's frames in its capture file (or memory), indexed by numpy columns, and chunk audio read back on demand."""
