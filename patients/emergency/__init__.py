"""Emergency access ("break the glass"): a nurse outside a patient's care team opening the record for a few hours.

services (start, end), selectors (what the banner and the coordinators' page read), forms, views and urls, the
middleware that puts every page she opens in the audit trail, and audit (the mark on those entries).
"""
