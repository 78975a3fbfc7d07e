"""Tenancy: organizations, projects, keys and users, and who a caller is."""
