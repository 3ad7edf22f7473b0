"""What the window remembers between runs: the settings file (:mod:`.store`, every key and its type), the API
key in the system's keyring (:mod:`.secret`), and window geometry fitted to the screen (:mod:`.geometry`)."""
