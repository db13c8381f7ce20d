"""A user agent string in the words a nurse uses for her device: "Chrome on an Android tablet".

Only what tells one's own devices apart: the browser and the kind of device. Versions and build numbers are
dropped (they change with every update and say nothing to a person).
"""

import re

UNKNOWN = "Unknown browser"

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari", and so on.
BROWSERS = (
    ("Edge", r"\bEdg(e|A|iOS)?/"),
    ("Opera", r"\b(OPR|Opera)/"),
    ("Samsung Internet", r"\bSamsungBrowser/"),
    ("Firefox", r"\b(Firefox|FxiOS)/"),
    ("Chrome", r"\b(Chrome|CriOS|HeadlessChrome|Chromium)/"),
    ("Safari", r"\bVersion/[\d.]+.*\bSafari/"),
)


def _browser(agent: str) -> str | None:
    for name, pattern in BROWSERS:
        if re.search(pattern, agent):
            return name
    return None


def _device(agent: str) -> str | None:
    if "iPad" in agent:
        return "an iPad"
    if "iPhone" in agent or "iPod" in agent:
        return "an iPhone"
    if "Android" in agent:
        # Android phones say "Mobile"; tablets leave it out.
        return "an Android phone" if "Mobile" in agent else "an Android tablet"
    if "CrOS" in agent:
        return "a Chromebook"
    if "Windows" in agent:
        return "a Windows computer"
    if "Macintosh" in agent or "Mac OS X" in agent:
        return "a Mac"
    if "Linux" in agent or "X11" in agent:
        return "a Linux computer"
    return None


def describe_device(user_agent: str | None) -> str:
    agent = (user_agent or "")[:1000]
    browser, device = _browser(agent), _device(agent)
    if browser and device:
        return f"{browser} on {device}"
    if browser:
        return browser
    if device:
        return f"A browser on {device}"
    return UNKNOWN
