"""The pages link htmx's files under the names package.json's versions give them."""

from __future__ import annotations

from webapp import vendor


def test_the_pages_link_the_vendored_files(client):
    page = client.get("/login").get_data(as_text=True)
    for path in vendor.served().values():
        assert f'src="/static/{path}"' in page
        assert (vendor.ROOT / "static" / path).is_file(), f"{path}: run `make` (npm ci, copy)"
