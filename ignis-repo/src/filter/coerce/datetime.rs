//! Dates and timestamps: the string and number forms accepted, within Postgres's range.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value as JsonValue;

use crate::filter::error::FilterError;

pub(super) fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .or_else(|| parse_offset_datetime(s).map(|d| d.date_naive()))
        .or_else(|| parse_naive_datetime(s).map(|d| d.date()))
}

fn parse_offset_datetime(s: &str) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%#z").ok())
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z").ok())
}

fn parse_naive_datetime(s: &str) -> Option<NaiveDateTime> {
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, format) {
            return Some(d);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// The earliest moment Postgres's `timestamp`, `timestamptz` and `date` hold (4714-11-24 BC,
/// Julian day 0), in seconds since the Unix epoch. chrono's latest (year 262143) is within all
/// three types' upper bounds, so only the lower bound needs checking: a value below it would be
/// refused by the server ("timestamp out of range", SQLSTATE 22008) after the statement was sent.
pub(super) const PG_MIN_UNIX_SECONDS: i64 = -210_866_803_200;

pub(super) fn in_pg_range(d: NaiveDateTime) -> bool {
    d.and_utc().timestamp() >= PG_MIN_UNIX_SECONDS
}

pub(super) fn timestamptz(field: &str, value: &JsonValue) -> Result<DateTime<Utc>, FilterError> {
    let parsed = match value {
        JsonValue::String(s) => {
            let s = s.trim();
            parse_offset_datetime(s)
                .map(|d| d.with_timezone(&Utc))
                .or_else(|| parse_naive_datetime(s).map(|d| d.and_utc()))
        }
        // A JS `Date` serialized as a number: milliseconds since the epoch.
        JsonValue::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    };
    parsed
        .filter(|d| in_pg_range(d.naive_utc()))
        .ok_or_else(|| {
            FilterError::invalid(
                field,
                "an RFC 3339 timestamp (2024-01-31T12:00:00Z) or epoch milliseconds",
                value,
            )
        })
}

pub(super) fn timestamp(field: &str, value: &JsonValue) -> Result<NaiveDateTime, FilterError> {
    let parsed = match value {
        JsonValue::String(s) => {
            let s = s.trim();
            parse_offset_datetime(s)
                .map(|d| d.naive_local())
                .or_else(|| parse_naive_datetime(s))
        }
        JsonValue::Number(n) => n
            .as_i64()
            .and_then(DateTime::from_timestamp_millis)
            .map(|d| d.naive_utc()),
        _ => None,
    };
    parsed.filter(|d| in_pg_range(*d)).ok_or_else(|| {
        FilterError::invalid(field, "an ISO 8601 timestamp (2024-01-31T12:00:00)", value)
    })
}
