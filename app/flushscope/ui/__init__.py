"""The Qt window and its views."""
