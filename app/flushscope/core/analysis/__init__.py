"""What the model's data says: send-side lints, flush boundaries, reports, diffs and strategy comparisons."""
