"""Boards: a project's pages of tiles (pinned saved reports), their order and sizes, and how a
tile draws its report."""
