"""The API key, kept only in the system's keyring (GNOME Keyring, KWallet, macOS Keychain, Windows
Credential Manager) and only when the user asks for it: never in the settings file, never in clear on disk.

The ``keyring`` package picks the backend. Where it has none that works (``keyring.backends.fail``, or the
``null`` backend a user chose to turn it off), the key cannot be remembered and :meth:`KeyStore.why_not` says
why in words; a keyring that fails while in use (locked, refused) is said in words too, never raised.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger("flushscope.window")

#: Where the key is filed in the keyring.
SERVICE: Final = "flushscope"
ACCOUNT: Final = "cartesia-api-key"

NO_KEYRING: Final = (
    "No system keyring was found, so the key cannot be remembered: it is never written to disk in clear. "
    "Install and unlock one (GNOME Keyring, KWallet, the macOS Keychain) to use this."
)


class KeyStore:
    """The API key in the keyring of ``backend`` (None: the one ``keyring`` chooses, looked up when first
    needed: finding it loads its plugins)."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    def _keyring(self) -> KeyringBackend:
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    def why_not(self) -> str:
        """Why the key cannot be remembered ("" when it can)."""
        from keyring.backends import fail, null

        backend = self._keyring()
        return NO_KEYRING if isinstance(backend, fail.Keyring | null.Keyring) else ""

    def load(self) -> str | None:
        """The key remembered, if any (None also when the keyring cannot be read: logged)."""
        if self.why_not():
            return None
        try:
            return self._keyring().get_password(SERVICE, ACCOUNT)
        except Exception as exc:  # backends raise their own errors (locked, dbus gone, refused)
            log.warning("cannot read the API key from the keyring: %s", exc)
            return None

    def save(self, key: str) -> str:
        """Keep ``key`` in the keyring (an empty key forgets it); "" when done, else why not in words."""
        if why := self.why_not():
            return why
        try:
            if key:
                self._keyring().set_password(SERVICE, ACCOUNT, key)
            else:
                self._forget()
        except Exception as exc:  # as in load
            return f"The keyring refused the key: {exc}"
        return ""

    def forget(self) -> str:
        """Remove the key from the keyring; "" when done (or there was none), else why not."""
        if why := self.why_not():
            return why
        try:
            self._forget()
        except Exception as exc:  # as in load
            return f"The keyring did not forget the key: {exc}"
        return ""

    def _forget(self) -> None:
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):  # there was none
            self._keyring().delete_password(SERVICE, ACCOUNT)
