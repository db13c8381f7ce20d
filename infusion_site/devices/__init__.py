"""Signed-in devices: where each user is signed in, and ending a session from elsewhere (a lost tablet).

models (infusion_site.models.UserSession), user_agents (the browser in words), services, signals (sign-in and
sign-out), middleware (last seen, at most once a minute), views, urls.
"""
