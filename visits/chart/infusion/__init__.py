"""The chart's infusion and vital-sign sections: start, titration, end, vitals, and the "what is next" strip."""
