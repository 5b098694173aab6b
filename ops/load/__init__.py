"""The one purchase load generator: Locust users, records, load shapes, timeline, audit and the runner."""
