"""Contact-discovery benchmarks of mayknow: matching, whole request, sydent, private mode."""
