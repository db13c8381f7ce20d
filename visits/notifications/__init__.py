"""Notifications: what falls due (reminders, agendas, alerts), IVIG follow-ups, delivery, the inbox and preferences."""
