"""Unit tests of webapp.tenancy."""
