"""The chart with no connection: the tablet's service worker and manifest, the entries it kept, and discarding one."""
