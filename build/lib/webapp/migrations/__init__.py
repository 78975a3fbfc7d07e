"""Numbered schema migrations, applied in order by `flask db migrate`."""
