"""Where a subcutaneous immunoglobulin infusion may go: the codes stored in self-infusion logs.

The Hizentra prescribing information (section 2.3) names the abdomen, thigh, upper arm and lateral hip
(flank) as infusion sites; each side is its own code so that rotation can be followed.
"""

SITES: dict[str, str] = {
    "abdomen_left": "Abdomen, left",
    "abdomen_right": "Abdomen, right",
    "thigh_left": "Thigh, left",
    "thigh_right": "Thigh, right",
    "upper_arm_left": "Upper arm, left",
    "upper_arm_right": "Upper arm, right",
    "flank_left": "Flank (lateral hip), left",
    "flank_right": "Flank (lateral hip), right",
}

SITE_CHOICES: list[tuple[str, str]] = list(SITES.items())
