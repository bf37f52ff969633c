"""The planning optimizer (issue: optimizer). The only package that may import ortools."""
