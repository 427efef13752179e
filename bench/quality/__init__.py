"""Quality benchmark: link prediction and the newcomer study (``python -m bench.quality``)."""
