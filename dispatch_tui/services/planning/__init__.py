"""Planning: the rules of a technician's day, candidates, manual changes to the plan, the optimizer."""
