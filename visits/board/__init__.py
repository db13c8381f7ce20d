"""The coordinator's board: the week's visits, nurse availability, assignment and the conflicts it checks."""
