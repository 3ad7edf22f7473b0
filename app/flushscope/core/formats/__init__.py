"""Recordings on disk: telling captures and HAR files apart, opening them, writing them, and label tracks."""
