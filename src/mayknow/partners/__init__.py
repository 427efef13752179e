"""Partner apps (H9): log in with mayknow, a separate consent per recipient, a record of
every provision."""
