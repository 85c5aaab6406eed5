"""Handlers of the events content consumes."""
