"""Alerts: rules on a project's counts, evaluated by the worker, delivered as signed webhooks."""
