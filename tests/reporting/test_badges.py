"""Trust badges: failures first and named in the alert, reasons escaped, bad statuses refused."""

from __future__ import annotations

import pytest

from seqrobust.reporting.badges import Badge, alert_html, badges_html, tally


def test_failures_come_first_and_raise_the_alert() -> None:
    badges = [Badge("a", "pass", "fine"), Badge("b", "n/a", "nothing"),
              Badge("c <x>", "fail", "2 > 1")]
    html = badges_html(badges)
    assert html.index('data-status="fail"') < html.index('data-status="pass"') < \
        html.index('data-status="n/a"')
    assert "c &lt;x&gt;" in html and "2 &gt; 1" in html and "<x>" not in html
    alert = alert_html(badges)
    assert "1 sanity check failed" in alert and "c &lt;x&gt;" in alert
    assert alert_html(badges[:2]) == ""
    assert 'data-failed="1"' in tally(badges) and "1 pass" in tally(badges)
    assert 'data-failed="0"' in tally(badges[:2])


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown badge status 'ok'"):
        Badge("a", "ok", "")  # type: ignore[arg-type]
