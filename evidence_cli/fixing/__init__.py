"""Fixing a bibliography from what the audit found: plan the changes, edit the entries' text."""
