"""The second factor for staff (and patients who opt in): authenticator apps, recovery codes and passkeys."""
