"""A long report's estimated progress."""

from webapp.web.reports import progress_html


def test_progress_is_the_time_so_far_as_a_share_of_the_last_run_in_steps_of_five():
    assert 'value="40"' in progress_html(4.4, 10) and "about 40%" in progress_html(4.4, 10)
    assert 'value="0"' in progress_html(0.1, 10)
    assert "estimated from the last run, 10 s" in progress_html(4.4, 10)


def test_a_run_slower_than_the_last_stays_below_100_until_done():
    assert 'value="99"' in progress_html(30, 10)


def test_with_no_earlier_run_it_shows_the_seconds_so_far():
    html = progress_html(7.9, None)
    assert "running for 7 s" in html and "value=" not in html
