"""The window's views: bars, the composer, panels and strips that controllers drive."""
