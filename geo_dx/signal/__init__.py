"""What a mobile site reaches: terrain, viewsheds, the ITM model, calibration, blocking."""
