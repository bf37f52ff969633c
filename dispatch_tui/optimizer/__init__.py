"""The planning optimizer (re-plans a day: `dispatch optimize`). The only package that may import ortools."""
