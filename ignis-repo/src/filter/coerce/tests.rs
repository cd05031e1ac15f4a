//! Coercion of each Postgres type: accepted forms, ranges, casts, NUL characters.

use super::datetime::PG_MIN_UNIX_SECONDS;
use super::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

#[test]
fn nul_characters_are_refused_in_text_and_json() {
    let text_array: PgType = "text[]".parse().unwrap();
    for (ty, v) in [
        (PgType::Text, json!("a\u{0}b")),
        (text_array, json!(["ok", "\u{0}"])),
        (PgType::Jsonb, json!({"k": ["\u{0}"]})),
        (PgType::Jsonb, json!({"\u{0}": 1})),
    ] {
        let err = coerce_value("f", &ty, &v).unwrap_err();
        assert!(err.to_string().contains("NUL"), "{ty}: {err}");
    }
    assert!(path_text("f", &json!("\u{0}")).is_err());
    assert!(coerce_value("f", &PgType::Jsonb, &json!({"k": "\\u0000"})).is_ok());
}

#[test]
fn dates_and_timestamps_before_postgres_range_are_refused() {
    let first = NaiveDate::from_ymd_opt(-4713, 11, 24).unwrap();
    assert_eq!(
        first.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp(),
        PG_MIN_UNIX_SECONDS
    );
    let tz = PgType::TIMESTAMPTZ;
    let naive = PgType::Timestamp {
        precision: None,
        with_time_zone: false,
    };
    // Epoch milliseconds chrono accepts but Postgres does not (year -251 000).
    for ty in [&tz, &naive] {
        assert!(coerce_value("at", ty, &json!(-8_000_000_000_000_000_i64)).is_err());
        assert!(coerce_value("at", ty, &json!(-210_866_803_200_000_i64)).is_ok());
        assert!(coerce_value("at", ty, &json!(-210_866_803_200_001_i64)).is_err());
    }
    assert!(coerce_value("day", &PgType::Date, &json!("-4713-11-24")).is_ok());
    assert!(coerce_value("day", &PgType::Date, &json!("-4713-11-23")).is_err());
}

#[test]
fn numeric_literals() {
    for ok in [
        "1",
        "-1.5",
        "+.5",
        "5.",
        "1e10",
        "1.5E-3",
        "NaN",
        "-Infinity",
    ] {
        assert!(is_numeric_literal(ok), "{ok}");
    }
    for bad in ["", ".", "e5", "1e", "1.2.3", "abc", "1 2", "--1", "-nan"] {
        assert!(!is_numeric_literal(bad), "{bad}");
    }
}

#[test]
fn integers_are_range_checked_and_accept_numeric_strings() {
    let c = |v: JsonValue| coerce_value("age", &PgType::Integer, &v).map(|b| b.value);
    assert_eq!(c(json!(42)), Ok(SqlValue::Int(Some(42))));
    assert_eq!(c(json!("42")), Ok(SqlValue::Int(Some(42))));
    assert_eq!(c(json!(42.0)), Ok(SqlValue::Int(Some(42))));
    assert!(c(json!(42.5)).is_err());
    assert!(c(json!(2_147_483_648_i64)).is_err());
    assert!(c(json!(u64::MAX)).is_err());
    assert!(c(json!(true)).is_err());
    assert_eq!(
        coerce_value("n", &PgType::SmallInt, &json!(7)).map(|b| b.value),
        Ok(SqlValue::SmallInt(Some(7)))
    );
    assert!(coerce_value("n", &PgType::SmallInt, &json!(40_000)).is_err());
    assert_eq!(
        coerce_value("n", &PgType::BigInt, &json!(i64::MAX)).map(|b| b.value),
        Ok(SqlValue::BigInt(Some(i64::MAX)))
    );
}

#[test]
fn timestamps_parse_rfc3339_dates_and_millis() {
    let c = |v: JsonValue| coerce_value("at", &PgType::TIMESTAMPTZ, &v).map(|b| b.value);
    let noon = DateTime::parse_from_rfc3339("2024-01-31T12:00:00Z")
        .map(|d| d.with_timezone(&Utc))
        .ok();
    assert_eq!(
        c(json!("2024-01-31T14:00:00+02:00")),
        Ok(SqlValue::ChronoDateTimeUtc(noon))
    );
    assert_eq!(
        c(json!("2024-01-31 12:00:00")),
        Ok(SqlValue::ChronoDateTimeUtc(noon))
    );
    assert_eq!(
        c(json!(1_706_702_400_000_i64)),
        Ok(SqlValue::ChronoDateTimeUtc(noon))
    );
    assert!(c(json!("yesterday")).is_err());
    let naive = PgType::Timestamp {
        precision: None,
        with_time_zone: false,
    };
    assert_eq!(
        coerce_value("at", &naive, &json!("2024-01-31T12:00:00+05:00")).map(|b| b.value),
        coerce_value("at", &naive, &json!("2024-01-31T12:00:00")).map(|b| b.value)
    );
    assert_eq!(
        coerce_value("d", &PgType::Date, &json!("2024-01-31")).map(|b| b.value),
        Ok(SqlValue::ChronoDate(NaiveDate::from_ymd_opt(2024, 1, 31)))
    );
}

#[test]
fn casts_come_from_the_type() {
    let numeric = PgType::Numeric {
        precision: Some(10),
        scale: Some(2),
    };
    let b = coerce_value("price", &numeric, &json!(0.1)).ok();
    assert_eq!(
        b,
        Some(BoundValue::new(
            SqlValue::String(Some("0.1".into())),
            Some("::text::numeric".into())
        ))
    );
    assert!(coerce_value("price", &numeric, &json!("1; DROP")).is_err());
    let b = coerce_value("meta", &PgType::Jsonb, &json!({"a": 1})).ok();
    assert_eq!(b.and_then(|b| b.cast), Some("::jsonb".into()));
    let b = coerce_value("span", &PgType::Interval, &json!("1 day")).ok();
    assert_eq!(b.and_then(|b| b.cast), Some("::text::interval".into()));
    // A `$` in a user type name (Postgres allows it after the first character) is written
    // as it is: the cast is SQL text, not a template (`$$` would open a dollar quote).
    let odd = PgType::Custom("my$1type".into());
    let b = coerce_value("x", &odd, &json!("a")).ok();
    assert_eq!(b.and_then(|b| b.cast), Some("::text::my$1type".into()));
}

#[test]
fn bytea_booleans_uuids_and_arrays() {
    assert_eq!(
        coerce_value("b", &PgType::Bytea, &json!("\\x0aFF")).map(|b| b.value),
        Ok(SqlValue::Bytes(Some(vec![10, 255])))
    );
    assert!(coerce_value("b", &PgType::Bytea, &json!("\\x0")).is_err());
    assert!(coerce_value("b", &PgType::Bytea, &json!("0a")).is_err());
    assert!(coerce_value("b", &PgType::Bytea, &json!("\\xé0")).is_err());
    assert_eq!(
        coerce_value("ok", &PgType::Boolean, &json!("yes")).map(|b| b.value),
        Ok(SqlValue::Bool(Some(true)))
    );
    assert!(coerce_value("ok", &PgType::Boolean, &json!("maybe")).is_err());
    assert!(coerce_value("id", &PgType::Uuid, &json!("not-a-uuid")).is_err());
    let ints = PgType::Array(Box::new(PgType::Integer));
    assert_eq!(
        coerce_value("xs", &ints, &json!([1, "2"])).map(|b| b.value),
        Ok(SqlValue::Array(
            ArrayType::Int,
            Some(Box::new(vec![
                SqlValue::Int(Some(1)),
                SqlValue::Int(Some(2))
            ]))
        ))
    );
    assert!(coerce_value("xs", &ints, &json!([1, "x"])).is_err());
    assert!(coerce_value("xs", &ints, &json!(1)).is_err());
    let nested = PgType::Array(Box::new(ints));
    assert!(coerce_value("xs", &nested, &json!([[1]])).is_err());
}

#[test]
fn text_columns_take_numbers_and_booleans_as_text() {
    let c = |v: JsonValue| coerce_value("name", &PgType::Text, &v).map(|b| b.value);
    assert_eq!(c(json!(5)), Ok(SqlValue::String(Some("5".into()))));
    assert_eq!(c(json!(false)), Ok(SqlValue::String(Some("false".into()))));
    assert!(c(json!({"a": 1})).is_err());
    assert_eq!(c(JsonValue::Null), Ok(SqlValue::String(None)));
}
