"""The session model: records as plain data, the Session facade over ingest, attribution and findings."""
