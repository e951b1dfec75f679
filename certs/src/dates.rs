//! Unix seconds, `SystemTime` and certificate times.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

use crate::Error;

pub(crate) const DAY: i64 = 86_400;

pub(crate) fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

pub(crate) fn system_time(secs: i64) -> SystemTime {
    let offset = Duration::from_secs(secs.unsigned_abs());
    let t = if secs >= 0 {
        UNIX_EPOCH.checked_add(offset)
    } else {
        UNIX_EPOCH.checked_sub(offset)
    };
    t.unwrap_or(UNIX_EPOCH)
}

/// `secs` (unix seconds) as a certificate time; `now` is only for the error message.
pub(crate) fn offset_date_time(
    secs: Option<i64>,
    now: SystemTime,
) -> Result<OffsetDateTime, Error> {
    secs.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or(Error::TimeOutOfRange(now))
}

pub(crate) fn format_date(secs: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(secs) {
        Ok(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        Err(_) => format!("unix time {secs}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_conversions() {
        assert_eq!(unix_secs(system_time(1_700_000_000)), 1_700_000_000);
        assert_eq!(unix_secs(system_time(-5)), -5);
        assert_eq!(format_date(0), "1970-01-01 00:00:00 UTC");
    }
}
