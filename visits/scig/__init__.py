"""SCIG at home: the per-site infusion planner and the nurse's teaching visits."""
