"""Command modules: each defines `register(app)` and imports its heavy dependencies lazily."""
