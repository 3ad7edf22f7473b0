"""Where a window opens: where it was last time, kept inside the screen it is on now, or, the first time, a
size that suits the screen (the whole available area of a small one).

Screens change between runs (a laptop leaves its monitor behind): a geometry remembered on a larger screen is
shrunk and moved until it is inside the available area of the screen under its centre (the primary one if
none is), so the status bar never opens below the screen's edge.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from flushscope.ui.preferences.store import Preferences


def fit_rect(rect: QRect, available: QRect) -> QRect:
    """``rect`` made to fit inside ``available``: no larger, then moved in."""
    w = min(rect.width(), available.width())
    h = min(rect.height(), available.height())
    x = min(max(rect.x(), available.left()), available.left() + available.width() - w)
    y = min(max(rect.y(), available.top()), available.top() + available.height() - h)
    return QRect(x, y, w, h)


def first_rect(preferred: QSize, available: QRect) -> QRect:
    """A window of ``preferred`` size centred on ``available``; on a screen too small for it, all of it."""
    if preferred.width() >= available.width() or preferred.height() >= available.height():
        return QRect(available)
    x = available.left() + (available.width() - preferred.width()) // 2
    y = available.top() + (available.height() - preferred.height()) // 2
    return QRect(x, y, preferred.width(), preferred.height())


def available_area(rect: QRect | None = None) -> QRect:
    """The available area (without panels and docks) of the screen under ``rect``'s centre, or of the
    primary screen."""
    screen = QGuiApplication.screenAt(rect.center()) if rect is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1024, 600)


def place_window(window: QWidget, preferences: Preferences, name: str, preferred: QSize) -> bool:
    """Give ``window`` the geometry remembered as ``name``, fitted to the screen, or a first one; returns
    whether it was maximised last time (the caller shows it so)."""
    remembered = preferences.geometry(name)
    if remembered is None:
        window.setGeometry(first_rect(preferred, available_area()))
        return False
    rect, maximized = remembered
    window.setGeometry(fit_rect(rect, available_area(rect)))
    return maximized


def show_placed(window: QWidget, preferences: Preferences, name: str, preferred: QSize) -> None:
    """Show ``window`` where it was last time (as ``name``), or at a first size, inside the screen."""
    if place_window(window, preferences, name, preferred):
        window.showMaximized()
    else:
        window.show()
        keep_frame_inside(window)


def keep_frame_inside(window: QWidget) -> None:
    """Once ``window`` is shown (its frame known): move and shrink it so that its frame, title bar included,
    is inside the available area of its screen."""
    frame, inner = window.frameGeometry(), window.geometry()
    fitted = fit_rect(frame, available_area(frame))
    if fitted != frame:
        left, top = inner.left() - frame.left(), inner.top() - frame.top()
        right, bottom = frame.right() - inner.right(), frame.bottom() - inner.bottom()
        window.setGeometry(fitted.adjusted(left, top, -right, -bottom))


def remember_window(window: QWidget, preferences: Preferences, name: str) -> None:
    """Keep ``window``'s normal geometry and whether it is maximised, as ``name``."""
    preferences.set_geometry(name, window.normalGeometry(), window.isMaximized())
