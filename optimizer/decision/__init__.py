"""The decision engine: audits in, recommended action plans out."""
