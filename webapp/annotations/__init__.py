"""Annotations: a project's notes at an instant or over a range, and their marks on charts."""
