"""What to build: candidates, fibre routes, the optimiser, the budget curve, the investment plan."""
