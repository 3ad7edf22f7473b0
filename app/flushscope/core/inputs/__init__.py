"""What a client sends: generation settings, scenario scripts, flush strategies and the shape of text."""
