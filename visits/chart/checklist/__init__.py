"""The chart's checklist and vials sections: safety checks with hard stops, premedications, vials and lots."""
