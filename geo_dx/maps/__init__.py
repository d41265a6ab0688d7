"""What a planner opens: the maps, their pages and the assets they share."""
