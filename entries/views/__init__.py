"""The entries web pages: thin views over entries.services (writes) and selectors (reads)."""
