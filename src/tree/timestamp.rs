//! RFC 3339 timestamps as the index reports upload times, reduced to seconds
//! since the epoch so that `--exclude-newer` compares instants, not strings
//! written with different offsets or precisions.

use std::fmt;
use std::str::FromStr;

/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Text that is not `YYYY-MM-DD` or an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date (YYYY-MM-DD) or an RFC 3339 timestamp")]
pub struct TimestampError(pub String);

impl Timestamp {
    pub fn seconds_since_epoch(self) -> i64 {
        self.0
    }

    pub fn from_seconds_since_epoch(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    /// `2024-03-01` (midnight UTC), `2024-03-01T12:00:00Z`,
    /// `2024-03-01T12:00:00.123456+02:00`.
    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        let invalid = || TimestampError(text.to_string());
        let (date, time) = match text.split_once(['T', 't', ' ']) {
            Some((date, time)) => (date, Some(time)),
            None => (text, None),
        };
        let mut parts = date.split('-');
        let (Some(year), Some(month), Some(day), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let year: i64 = number(year, 4).ok_or_else(invalid)?;
        let month: i64 = number(month, 2)
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(invalid)?;
        let day: i64 = number(day, 2)
            .filter(|d| (1..=31).contains(d))
            .ok_or_else(invalid)?;
        let mut seconds = days_from_civil(year, month, day) * 86_400;
        if let Some(time) = time {
            let (clock, offset) = split_offset(time).ok_or_else(invalid)?;
            let clock = clock.split('.').next().unwrap_or(clock);
            let mut fields = clock.split(':');
            let (Some(hour), Some(minute), Some(second), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(invalid());
            };
            let hour = number(hour, 2).filter(|h| *h < 24).ok_or_else(invalid)?;
            let minute = number(minute, 2).filter(|m| *m < 60).ok_or_else(invalid)?;
            let second = number(second, 2).filter(|s| *s <= 60).ok_or_else(invalid)?;
            seconds += hour * 3600 + minute * 60 + second - offset;
        }
        Ok(Timestamp(seconds))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let rest = self.0.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        )
    }
}

fn number(text: &str, width: usize) -> Option<i64> {
    (text.len() == width && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// The clock part and the offset from UTC in seconds.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let sign_at = time.rfind(['+', '-'])?;
    let (clock, offset) = time.split_at(sign_at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = offset[1..].split_once(':')?;
    Some((
        clock,
        sign * (number(hours, 2)? * 3600 + number(minutes, 2)? * 60),
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm, exact for every year).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Timestamp {
        text.parse().expect("valid timestamp")
    }

    #[test]
    fn compares_instants_across_offsets_and_precisions() {
        assert_eq!(parse("1970-01-01").seconds_since_epoch(), 0);
        assert_eq!(
            parse("2024-03-01T12:00:00Z"),
            parse("2024-03-01T14:00:00.123456+02:00")
        );
        assert!(parse("2024-02-29T23:59:59Z") < parse("2024-03-01"));
        assert_eq!(
            parse("2024-02-29T23:59:59Z").to_string(),
            "2024-02-29T23:59:59Z"
        );
    }

    #[test]
    fn rejects_other_text() {
        for text in [
            "yesterday",
            "2024-13-01",
            "2024-1-01",
            "2024-01-01T25:00:00Z",
            "2024-01-01T10:00",
        ] {
            assert!(text.parse::<Timestamp>().is_err(), "{text}");
        }
    }
}
