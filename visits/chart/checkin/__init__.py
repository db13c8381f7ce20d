"""The chart's check-in section: arriving and leaving, with the location (electronic visit verification)."""
