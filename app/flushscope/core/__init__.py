"""Qt-free core: frames, the session model, attribution, anomalies, capture files and scenario scripts."""
