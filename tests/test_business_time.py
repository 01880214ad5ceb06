"""Business seconds between two instants: pure functions, checked against hand-computed values.

All instants are naive UTC, as stored. America/Sao_Paulo is UTC-3 all year (no DST since 2019);
America/New_York moved to DST on Sunday 2026-03-08.
"""

from datetime import datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from portal.services.business_time import business_seconds, is_open, local_day_start
from portal.services.settings import BusinessHours

SP = "America/Sao_Paulo"
WEEKDAYS_8_TO_18 = BusinessHours({d: (time(8), time(18)) for d in range(5)})


def sp(*args) -> datetime:
    """A Sao Paulo wall-clock time as naive UTC."""
    return datetime(*args) + timedelta(hours=3)


def test_without_business_hours_every_second_counts():
    assert (
        business_seconds(sp(2026, 11, 20, 17, 50), sp(2026, 11, 23, 8, 10), None, SP) == 62 * 3600 + 20 * 60
    )


def test_friday_evening_to_monday_morning_counts_only_the_open_minutes():
    # Friday 2026-11-20 17:50 -> 18:00 (10 min) + Monday 2026-11-23 08:00 -> 08:10 (10 min).
    assert (
        business_seconds(sp(2026, 11, 20, 17, 50), sp(2026, 11, 23, 8, 10), WEEKDAYS_8_TO_18, SP) == 20 * 60
    )


def test_a_weekend_alone_counts_nothing():
    assert business_seconds(sp(2026, 11, 20, 18, 0), sp(2026, 11, 23, 8, 0), WEEKDAYS_8_TO_18, SP) == 0


def test_time_before_opening_and_after_closing_is_ignored():
    assert (
        business_seconds(sp(2026, 11, 24, 6, 0), sp(2026, 11, 24, 20, 0), WEEKDAYS_8_TO_18, SP) == 10 * 3600
    )


def test_two_whole_weeks_count_fifty_hours_each():
    assert business_seconds(sp(2026, 11, 2), sp(2026, 11, 16), WEEKDAYS_8_TO_18, SP) == 2 * 50 * 3600


def test_an_end_before_the_start_counts_nothing():
    assert business_seconds(sp(2026, 11, 24, 10), sp(2026, 11, 24, 9), WEEKDAYS_8_TO_18, SP) == 0
    assert business_seconds(sp(2026, 11, 24, 10), sp(2026, 11, 24, 9), None, SP) == 0


def test_days_with_their_own_hours_and_a_saturday_morning():
    hours = BusinessHours({4: (time(9), time(12)), 5: (time(9), time(13))})
    # Friday 11:00 -> Saturday 10:30: Friday 1 h + Saturday 1 h 30.
    assert business_seconds(sp(2026, 11, 20, 11), sp(2026, 11, 21, 10, 30), hours, SP) == 9000


def test_opening_hours_follow_the_local_clock_across_a_dst_change():
    ny = "America/New_York"
    # Friday 2026-03-06 17:00 EST (22:00 UTC) to Monday 2026-03-09 09:00 EDT (13:00 UTC):
    # 1 h on Friday and 1 h on Monday, although UTC offsets differ by an hour.
    assert business_seconds(datetime(2026, 3, 6, 22), datetime(2026, 3, 9, 13), WEEKDAYS_8_TO_18, ny) == 7200


def test_no_open_weekday_means_business_hours_are_off():
    assert business_seconds(sp(2026, 11, 21), sp(2026, 11, 22), BusinessHours({}), SP) == 86400


def test_is_open_respects_the_closing_minute_and_weekends():
    assert is_open(sp(2026, 11, 20, 17, 59), WEEKDAYS_8_TO_18, SP)
    assert not is_open(sp(2026, 11, 20, 18, 0), WEEKDAYS_8_TO_18, SP)
    assert not is_open(sp(2026, 11, 21, 10, 0), WEEKDAYS_8_TO_18, SP)
    assert is_open(sp(2026, 11, 21, 10, 0), None, SP)


def test_local_day_start_is_local_midnight_in_utc():
    assert local_day_start(datetime(2026, 11, 20).date(), SP) == datetime(2026, 11, 20, 3)


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


@given(instants, instants, instants)
def test_business_time_adds_up_and_never_exceeds_wall_clock(a, b, c):
    a, b, c = sorted((a, b, c))
    whole = business_seconds(a, c, WEEKDAYS_8_TO_18, SP)
    assert whole == business_seconds(a, b, WEEKDAYS_8_TO_18, SP) + business_seconds(
        b, c, WEEKDAYS_8_TO_18, SP
    )
    assert whole <= business_seconds(a, c, None, SP)
