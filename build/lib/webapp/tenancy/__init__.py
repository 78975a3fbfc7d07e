"""Tenancy: organizations, projects, keys and users; naming projects, credentials, access."""
