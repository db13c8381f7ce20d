"""The patient's pages: upcoming visits, reschedule requests, journal, reminder choices, follow-ups, calendar."""
