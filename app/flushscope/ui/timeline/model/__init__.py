"""The timeline's model, free of Qt: lanes, their summaries and level of detail, which are shown, and what hover says."""
