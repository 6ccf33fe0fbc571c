from datetime import UTC, datetime

from crawler.middlewares import retry_after_seconds


def test_retry_after_in_seconds_and_as_http_date():
    now = datetime(2024, 5, 14, 9, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds("Tue, 14 May 2024 09:00:30 GMT", now=now) == 30
    assert retry_after_seconds("Tue, 14 May 2024 08:00:00 GMT", now=now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
