"""Tenancy: organizations, projects, keys and users; how a project is named (projects), who
is calling (credentials) and what they may see (policy)."""
