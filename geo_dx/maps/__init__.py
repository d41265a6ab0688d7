"""What a planner opens: offline maps, commune pages, the index, their assets."""
