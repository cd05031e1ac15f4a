//! Row decoding: Postgres binary values straight to `serde_json::Value`.
//!
//! One decoder for every column, driven by the column's Postgres type as the server reports it
//! (not by the model), so a row decodes the same at every include depth and whatever the
//! filter selected. JSON shapes, chosen to round-trip through the filter language and writes:
//!
//! | Postgres | JSON |
//! |---|---|
//! | smallint, integer, bigint, oid | number |
//! | real, double precision | number (`"NaN"`, `"Infinity"`, `"-Infinity"` as strings) |
//! | numeric | string, exact (`"12.50"`), as node-postgres and Ignis return it |
//! | text, varchar, char, name, enums | string |
//! | boolean | `true` / `false` |
//! | uuid | string, hyphenated lower case |
//! | json, jsonb | the document, exactly as stored |
//! | bytea | string `"\\x"` + lower-case hex (Postgres's `bytea_output = hex`) |
//! | timestamptz | RFC 3339 string in UTC (`2026-11-24T07:00:00.123456Z`) |
//! | timestamp | `2026-11-24T07:00:00.123456` (no offset) |
//! | date, time | `2026-11-24`, `07:00:00.5` |
//! | interval | ISO 8601 duration (`P1Y2M3DT4H5M6.5S`) |
//! | inet, cidr | `10.0.0.1`, `10.0.0.0/8` |
//! | arrays | arrays of the above (nested for several dimensions) |

use std::error::Error as StdError;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, TimeDelta};
use fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, Kind, Type};
use postgres_protocol::types as pgt;
use serde_json::{Number, Value};

type BoxError = Box<dyn StdError + Sync + Send>;

/// Any Postgres value, decoded to JSON (see the module table). Used as `row.try_get::<_, Cell>(i)`.
pub(crate) struct Cell(pub(crate) Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Seconds between the Unix epoch and the Postgres epoch (2000-01-01).
const PG_EPOCH_UNIX: i64 = 946_684_800;

fn float(v: f64) -> Value {
    match Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None if v.is_nan() => Value::String("NaN".into()),
        None if v > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

fn timestamp(micros: i64) -> Option<chrono::NaiveDateTime> {
    let secs = micros.div_euclid(1_000_000) + PG_EPOCH_UNIX;
    let nanos = (micros.rem_euclid(1_000_000) * 1000) as u32;
    DateTime::from_timestamp(secs, nanos).map(|d| d.naive_utc())
}

/// A timestamp's text on the stack (at most `9999-12-31T23:59:59.999999999Z`, 30 bytes).
pub(crate) struct TsText {
    buf: [u8; 32],
    len: usize,
}

impl TsText {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// Appends `n` as exactly `width` decimal digits (`n < 10^width`, `width <= 9`).
    fn push_digits(&mut self, mut n: u32, width: usize) {
        let mut digits = [b'0'; 9];
        for slot in digits[..width.min(9)].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        for &d in &digits[..width.min(9)] {
            self.push(d);
        }
    }

    /// The text (ASCII digits and punctuation only).
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// `2026-11-24T07:00:00.123456` + `suffix` (`Z` or nothing), with the fraction in 0, 3, 6 or 9
/// digits as needed: the text chrono prints for `to_rfc3339_opts(SecondsFormat::AutoSi, true)`
/// (suffix `Z`) and `%Y-%m-%dT%H:%M:%S%.f` (no suffix), written without chrono's formatting
/// machinery (which cost more than the rest of a row's decoding). `None` for years outside
/// 0..=9999, which chrono prints with a sign: the caller formats those with chrono.
fn timestamp_text(t: &chrono::NaiveDateTime, zulu: bool) -> Option<TsText> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut s = TsText {
        buf: [0; 32],
        len: 0,
    };
    s.push_digits(year, 4);
    s.push(b'-');
    s.push_digits(t.month(), 2);
    s.push(b'-');
    s.push_digits(t.day(), 2);
    s.push(b'T');
    s.push_digits(t.hour(), 2);
    s.push(b':');
    s.push_digits(t.minute(), 2);
    s.push(b':');
    s.push_digits(t.second(), 2);
    let nanos = t.nanosecond();
    if nanos != 0 {
        s.push(b'.');
        if nanos.is_multiple_of(1_000_000) {
            s.push_digits(nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            s.push_digits(nanos / 1_000, 6);
        } else {
            s.push_digits(nanos, 9);
        }
    }
    if zulu {
        s.push(b'Z');
    }
    Some(s)
}

/// The text of a finite `timestamptz` (`zulu`) or `timestamp` value within years 0..=9999, as
/// the dynamic rows spell it, without allocating; `None` for anything else (infinities, other
/// years, malformed values), which the caller decodes the general way.
pub(crate) fn timestamp_text_of(raw: &[u8], zulu: bool) -> Option<TsText> {
    let micros = pgt::timestamp_from_sql(raw).ok()?;
    if micros == i64::MAX || micros == i64::MIN {
        return None;
    }
    timestamp_text(&timestamp(micros)?, zulu)
}

/// One non-null value decoded to JSON (the module table); shared with typed rows.
pub(crate) fn decode_value(ty: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    decode(ty, raw)
}

fn decode(ty: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    Ok(match *ty {
        Type::BOOL => Value::Bool(pgt::bool_from_sql(raw)?),
        Type::INT2 => Value::from(pgt::int2_from_sql(raw)?),
        Type::INT4 => Value::from(pgt::int4_from_sql(raw)?),
        Type::INT8 => Value::from(pgt::int8_from_sql(raw)?),
        Type::OID => Value::from(pgt::oid_from_sql(raw)?),
        // Shortest decimal form of the f32, so 0.1::real reads as 0.1, not 0.10000000149...
        Type::FLOAT4 => float(pgt::float4_from_sql(raw)?.to_string().parse::<f64>()?),
        Type::FLOAT8 => float(pgt::float8_from_sql(raw)?),
        Type::NUMERIC => Value::String(numeric_to_string(raw)?),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            Value::String(pgt::text_from_sql(raw)?.to_owned())
        }
        Type::JSON => json_document(raw)?,
        Type::JSONB => match raw.split_first() {
            Some((1, doc)) => json_document(doc)?,
            _ => return Err("unsupported jsonb binary version".into()),
        },
        Type::UUID => Value::String(
            uuid::Uuid::from_bytes(pgt::uuid_from_sql(raw)?)
                .hyphenated()
                .to_string(),
        ),
        Type::BYTEA => {
            let bytes = pgt::bytea_from_sql(raw);
            let mut s = String::with_capacity(2 + bytes.len() * 2);
            s.push_str("\\x");
            for b in bytes {
                let _ = write!(s, "{b:02x}");
            }
            Value::String(s)
        }
        Type::TIMESTAMPTZ | Type::TIMESTAMP => {
            let zulu = *ty == Type::TIMESTAMPTZ;
            if let Some(text) = timestamp_text_of(raw, zulu) {
                return Ok(Value::String(text.as_str().to_owned()));
            }
            // Infinities, and years chrono prints with a sign.
            Value::String(match pgt::timestamp_from_sql(raw)? {
                i64::MAX => "infinity".into(),
                i64::MIN => "-infinity".into(),
                m => match timestamp(m) {
                    Some(t) if zulu => t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                    Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
                    None => far_timestamp_text(m, zulu),
                },
            })
        }
        Type::DATE => match pgt::date_from_sql(raw)? {
            i32::MAX => Value::String("infinity".into()),
            i32::MIN => Value::String("-infinity".into()),
            days => {
                let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).ok_or("date epoch")?;
                match epoch.checked_add_signed(TimeDelta::days(i64::from(days))) {
                    Some(d) => Value::String(d.format("%Y-%m-%d").to_string()),
                    None => Value::String(far_date_text(i64::from(days))),
                }
            }
        },
        Type::TIME => Value::String(time_to_string(pgt::time_from_sql(raw)?)?),
        Type::TIMETZ => {
            if raw.len() != 12 {
                return Err("invalid timetz".into());
            }
            let micros = pgt::time_from_sql(&raw[..8])?;
            let west = pgt::int4_from_sql(&raw[8..])?;
            let east = -west;
            let sign = if east < 0 { '-' } else { '+' };
            let a = east.abs();
            Value::String(format!(
                "{}{sign}{:02}:{:02}",
                time_to_string(micros)?,
                a / 3600,
                (a % 3600) / 60
            ))
        }
        Type::INTERVAL => Value::String(interval_to_string(raw)?),
        Type::INET | Type::CIDR => {
            let inet = pgt::inet_from_sql(raw)?;
            let full = if inet.addr().is_ipv4() { 32 } else { 128 };
            if *ty == Type::INET && inet.netmask() == full {
                Value::String(inet.addr().to_string())
            } else {
                Value::String(format!("{}/{}", inet.addr(), inet.netmask()))
            }
        }
        _ => match ty.kind() {
            Kind::Enum(_) => Value::String(pgt::text_from_sql(raw)?.to_owned()),
            Kind::Domain(base) => decode(base, raw)?,
            Kind::Array(elem) => decode_array(elem, raw)?,
            _ => {
                return Err(format!(
                    "Postgres type `{}` has no JSON decoding; cast the column to text in the model",
                    ty.name()
                )
                .into())
            }
        },
    })
}

/// Year, month and day of `days` after 2000-01-01 in the proleptic Gregorian calendar, for any
/// `i64` of days (H. Hinnant's `civil_from_days`): Postgres dates and timestamps reach years
/// beyond chrono's range (±262,143), up to 5,874,897 for `date` and 294,276 for `timestamp`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 10_957 + 719_468; // 1970-01-01 is day 0 of the algorithm's count
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A year as chrono writes it: four digits, a sign beyond 9999 or before 0.
fn push_year(s: &mut String, year: i64) {
    let _ = match year {
        0..=9999 => write!(s, "{year:04}"),
        y if y > 0 => write!(s, "+{y}"),
        y => write!(s, "-{:04}", y.unsigned_abs()),
    };
}

/// A `date` outside chrono's range, in the shape of [`decode`]'s dates (`+5874897-12-31`).
fn far_date_text(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    let mut s = String::with_capacity(16);
    push_year(&mut s, year);
    let _ = write!(s, "-{month:02}-{day:02}");
    s
}

/// A `timestamp` / `timestamptz` (`zulu`) outside chrono's range, in the shape of [`decode`]'s
/// timestamps (`+294276-12-31T23:59:59.999999Z`).
fn far_timestamp_text(micros: i64, zulu: bool) -> String {
    let mut s = far_date_text(micros.div_euclid(86_400_000_000));
    let of_day = micros.rem_euclid(86_400_000_000);
    let secs = of_day / 1_000_000;
    let frac = of_day % 1_000_000;
    let _ = write!(
        s,
        "T{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    if frac % 1000 == 0 && frac != 0 {
        let _ = write!(s, ".{:03}", frac / 1000);
    } else if frac != 0 {
        let _ = write!(s, ".{frac:06}");
    }
    if zulu {
        s.push('Z');
    }
    s
}

/// Whether [`decode`] has a JSON form for values of `ty` (every type of the module table, their
/// domains and arrays). A write that returns rows checks its columns with this before it runs,
/// so it never commits and then fails to decode what it wrote.
pub(crate) fn decodable(ty: &Type) -> bool {
    match *ty {
        Type::BOOL
        | Type::INT2
        | Type::INT4
        | Type::INT8
        | Type::OID
        | Type::FLOAT4
        | Type::FLOAT8
        | Type::NUMERIC
        | Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::UNKNOWN
        | Type::JSON
        | Type::JSONB
        | Type::UUID
        | Type::BYTEA
        | Type::TIMESTAMPTZ
        | Type::TIMESTAMP
        | Type::DATE
        | Type::TIME
        | Type::TIMETZ
        | Type::INTERVAL
        | Type::INET
        | Type::CIDR => true,
        _ => match ty.kind() {
            Kind::Enum(_) => true,
            Kind::Domain(base) => decodable(base),
            Kind::Array(elem) => decodable(elem),
            _ => false,
        },
    }
}

/// A json / jsonb document's text as JSON: `serde_json` for the usual document, and for one it
/// refuses (deeper than its recursion limit, a number beyond `f64`) the iterative parser, which
/// takes anything Postgres stores ([`crate::json::parse_document`]).
fn json_document(text: &[u8]) -> Result<Value, BoxError> {
    match serde_json::from_slice(text) {
        Ok(v) => Ok(v),
        Err(_) => Ok(crate::json::parse_document(text)?),
    }
}

fn decode_array(elem: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    let array = pgt::array_from_sql(raw)?;
    let dims: Vec<usize> = array
        .dimensions()
        .map(|d| Ok(usize::try_from(d.len).unwrap_or(0)))
        .collect()?;
    let mut flat = Vec::with_capacity(dims.iter().product());
    let mut values = array.values();
    while let Some(v) = values.next()? {
        flat.push(match v {
            None => Value::Null,
            Some(bytes) => decode(elem, bytes)?,
        });
    }
    if dims.len() <= 1 {
        return Ok(Value::Array(flat));
    }
    // Rebuild the nesting, innermost dimension first.
    let mut level = flat;
    for &len in dims[1..].iter().rev() {
        let mut next = Vec::with_capacity(level.len() / len.max(1));
        let mut it = level.into_iter();
        loop {
            let chunk: Vec<Value> = it.by_ref().take(len).collect();
            if chunk.is_empty() {
                break;
            }
            next.push(Value::Array(chunk));
        }
        level = next;
    }
    Ok(Value::Array(level))
}

fn time_to_string(micros: i64) -> Result<String, BoxError> {
    if micros == 86_400_000_000 {
        return Ok("24:00:00".into());
    }
    let secs = u32::try_from(micros / 1_000_000)?;
    let nanos = u32::try_from((micros % 1_000_000) * 1000)?;
    let t =
        NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).ok_or("time out of range")?;
    Ok(t.format("%H:%M:%S%.f").to_string())
}

fn interval_to_string(raw: &[u8]) -> Result<String, BoxError> {
    if raw.len() != 16 {
        return Err("invalid interval".into());
    }
    let micros = pgt::int8_from_sql(&raw[..8])?;
    let days = pgt::int4_from_sql(&raw[8..12])?;
    let months = pgt::int4_from_sql(&raw[12..])?;
    let mut s = String::from("P");
    let (years, months) = (months / 12, months % 12);
    if years != 0 {
        let _ = write!(s, "{years}Y");
    }
    if months != 0 {
        let _ = write!(s, "{months}M");
    }
    if days != 0 {
        let _ = write!(s, "{days}D");
    }
    if micros != 0 {
        s.push('T');
        let neg = micros < 0;
        let m = micros.unsigned_abs();
        let (h, rem) = (m / 3_600_000_000, m % 3_600_000_000);
        let (min, rem) = (rem / 60_000_000, rem % 60_000_000);
        let (sec, frac) = (rem / 1_000_000, rem % 1_000_000);
        let sign = if neg { "-" } else { "" };
        if h != 0 {
            let _ = write!(s, "{sign}{h}H");
        }
        if min != 0 {
            let _ = write!(s, "{sign}{min}M");
        }
        if sec != 0 || frac != 0 {
            let _ = write!(s, "{sign}{sec}");
            if frac != 0 {
                let f = format!("{frac:06}");
                let _ = write!(s, ".{}", f.trim_end_matches('0'));
            }
            s.push('S');
        }
    }
    if s == "P" {
        s.push_str("T0S");
    }
    Ok(s)
}

/// Postgres `numeric` binary format (base-10000 digits, `numeric_send` in
/// src/backend/utils/adt/numeric.c) to its exact decimal text with `dscale` fraction digits.
fn numeric_to_string(raw: &[u8]) -> Result<String, BoxError> {
    if raw.len() < 8 {
        return Err("invalid numeric".into());
    }
    let ndigits = usize::try_from(pgt::int2_from_sql(&raw[0..2])?)?;
    let weight = i32::from(pgt::int2_from_sql(&raw[2..4])?);
    let sign = u16::from_be_bytes([raw[4], raw[5]]);
    let dscale = usize::from(u16::from_be_bytes([raw[6], raw[7]]));
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    if raw.len() != 8 + 2 * ndigits {
        return Err("invalid numeric length".into());
    }
    let digits: Vec<i32> = raw[8..]
        .chunks_exact(2)
        .map(|c| i32::from(i16::from_be_bytes([c[0], c[1]])))
        .collect();
    let digit = |k: i32| -> i32 {
        usize::try_from(k)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut s = String::with_capacity(16);
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for k in 0..=weight {
            if k == 0 {
                let _ = write!(s, "{}", digit(k));
            } else {
                let _ = write!(s, "{:04}", digit(k));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let start = s.len();
        let mut j = 0;
        while s.len() - start < dscale {
            let _ = write!(s, "{:04}", digit(weight + 1 + j));
            j += 1;
        }
        s.truncate(start + dscale);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&ndigits.to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&sign.to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn far_dates_agree_with_chrono_where_chrono_reaches() {
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        for days in (-1_000_000i64..1_000_000)
            .step_by(997)
            .chain([-1, 0, 59, 60, 365, 366])
        {
            let d = epoch.checked_add_signed(TimeDelta::days(days)).unwrap();
            assert_eq!(
                far_date_text(days),
                d.format("%Y-%m-%d").to_string(),
                "{days}"
            );
        }
        // Postgres's last date and timestamp, beyond chrono.
        assert_eq!(
            far_date_text(2_147_483_494 - 2_451_545 - 1),
            "+5874897-12-31"
        );
        assert_eq!(
            far_timestamp_text(9_223_371_331_199_999_999, true),
            "+294276-12-31T23:59:59.999999Z"
        );
        let raw = 9_223_371_331_199_999_999i64.to_be_bytes();
        assert_eq!(
            decode(&Type::TIMESTAMP, &raw).unwrap(),
            Value::String("+294276-12-31T23:59:59.999999".into())
        );
    }

    #[test]
    fn numeric_binary_to_exact_text() {
        // 12345.678 = [1, 2345, 6780], weight 1, dscale 3
        assert_eq!(
            numeric_to_string(&numeric(3, 1, 0, 3, &[1, 2345, 6780])).unwrap(),
            "12345.678"
        );
        // -0.0005 = [5], weight -1, dscale 4
        assert_eq!(
            numeric_to_string(&numeric(1, -1, 0x4000, 4, &[5])).unwrap(),
            "-0.0005"
        );
        // 0.00000001 = [1], weight -2 (groups 0000 0001), dscale 8
        assert_eq!(
            numeric_to_string(&numeric(1, -2, 0, 8, &[1])).unwrap(),
            "0.00000001"
        );
        // 10000 = [1], weight 1, dscale 0 (trailing zero groups omitted)
        assert_eq!(
            numeric_to_string(&numeric(1, 1, 0, 0, &[1])).unwrap(),
            "10000"
        );
        // 12.50 with dscale 2
        assert_eq!(
            numeric_to_string(&numeric(2, 0, 0, 2, &[12, 5000])).unwrap(),
            "12.50"
        );
        assert_eq!(numeric_to_string(&numeric(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(
            numeric_to_string(&numeric(0, 0, 0xC000, 0, &[])).unwrap(),
            "NaN"
        );
        assert!(numeric_to_string(&[0, 1]).is_err());
        assert!(numeric_to_string(&numeric(3, 0, 0, 0, &[1])).is_err());
    }

    #[test]
    fn intervals_and_times_print_as_iso_8601() {
        let mut raw = Vec::new();
        raw.extend_from_slice(&(4 * 3_600_000_000i64 + 5 * 60_000_000 + 6_500_000).to_be_bytes());
        raw.extend_from_slice(&3i32.to_be_bytes());
        raw.extend_from_slice(&14i32.to_be_bytes());
        assert_eq!(interval_to_string(&raw).unwrap(), "P1Y2M3DT4H5M6.5S");
        assert_eq!(interval_to_string(&[0; 16]).unwrap(), "PT0S");
        assert_eq!(time_to_string(3_723_500_000).unwrap(), "01:02:03.500");
    }

    #[test]
    fn timestamps_format_as_chrono_does() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut samples: Vec<i64> = vec![0, 1, 999, 1000, 1_000_000, -1, -1_000_000];
        for _ in 0..2000 {
            // Years 0 to 9999: -6.3e16 to 2.5e17 microseconds around 2000-01-01.
            let micros = (next() % 300_000_000_000_000_000) as i64 - 60_000_000_000_000_000;
            samples.push(micros);
            samples.push(micros - micros % 1000);
            samples.push(micros - micros % 1_000_000);
        }
        for micros in samples {
            let t = timestamp(micros).unwrap();
            assert_eq!(
                timestamp_text(&t, true).unwrap().as_str(),
                t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                "{micros}"
            );
            assert_eq!(
                timestamp_text(&t, false).unwrap().as_str(),
                t.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
                "{micros}"
            );
        }
        // Years beyond 9999 are left to chrono.
        let far = timestamp(300_000_000_000_000_000).unwrap();
        assert!(timestamp_text(&timestamp(-70_000_000_000_000_000).unwrap(), true).is_none());
        assert!(timestamp_text(&far, true).is_none());
        let v = decode(
            &Type::TIMESTAMPTZ,
            &300_000_000_000_000_000i64.to_be_bytes(),
        )
        .unwrap();
        assert_eq!(
            v,
            Value::String(far.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let v = decode(&Type::TIMESTAMPTZ, &0i64.to_be_bytes()).unwrap();
        assert_eq!(v, Value::String("2000-01-01T00:00:00Z".into()));
        let v = decode(&Type::TIMESTAMPTZ, &1_500i64.to_be_bytes()).unwrap();
        assert_eq!(v, Value::String("2000-01-01T00:00:00.001500Z".into()));
        let v = decode(&Type::DATE, &(-1i32).to_be_bytes()).unwrap();
        assert_eq!(v, Value::String("1999-12-31".into()));
        let v = decode(&Type::BYTEA, &[0xde, 0xad]).unwrap();
        assert_eq!(v, Value::String("\\xdead".into()));
        assert_eq!(
            decode(&Type::FLOAT4, &0.1f32.to_be_bytes()).unwrap(),
            serde_json::json!(0.1)
        );
    }
}
