"""Travel time models: how long it takes to drive from one place to another."""
