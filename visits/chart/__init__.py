"""The visit chart: my day, the chart page and the rules its sections share, the printable record and lot recall."""
