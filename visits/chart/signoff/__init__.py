"""The chart's reactions, observation, signature, addenda and outcome measures."""
