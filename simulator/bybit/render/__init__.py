"""Engine values rendered in Bybit v5's field shapes (checked against recorded real responses)."""
