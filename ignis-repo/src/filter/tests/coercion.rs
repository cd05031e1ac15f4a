//! Values in a where are coerced to the column type, bound (never written into the SQL), and cast where the type needs it.

use super::*;

#[test]
fn values_are_coerced_to_the_column_type() {
    let (_, values) = where_sql(json!({"rank": 3, "age": "42", "active": "true"}));
    assert_eq!(
        values,
        vec![
            SqlValue::Bool(Some(true)),
            SqlValue::Int(Some(42)),
            SqlValue::SmallInt(Some(3)),
        ]
    );
    // Text columns take numbers and booleans as their text.
    assert_eq!(where_sql(json!({"name": 5})).1, vec![s("5")]);
    // Timestamps are parsed (RFC 3339), not passed as text.
    let (sql, values) = where_sql(json!({"lastLoginAt": {"gte": "2024-01-31T12:00:00+02:00"}}));
    assert_eq!(sql, r#""last_login_at" >= $1"#);
    let expected = chrono::DateTime::parse_from_rfc3339("2024-01-31T10:00:00Z")
        .map(|d| d.with_timezone(&chrono::Utc))
        .ok();
    assert_eq!(values, vec![SqlValue::ChronoDateTimeUtc(expected)]);
    // Numeric binds as text with a cast, so the value stays exact.
    let (sql, values) = where_sql(json!({"score": {"gt": 0.1}}));
    assert_eq!(sql, r#""score" > $1::text::numeric"#);
    assert_eq!(values, vec![s("0.1")]);
    let (sql, values) = where_sql(json!({"score": {"in": [1, "2.5"]}}));
    assert_eq!(sql, r#""score" = ANY($1::text[]::numeric[])"#);
    assert_eq!(values, vec![strings(&["1", "2.5"])]);
    // bytea from Postgres's hex form.
    assert_eq!(
        where_sql(json!({"avatar": "\\x00ff"})).1,
        vec![SqlValue::Bytes(Some(vec![0, 255]))]
    );
    // jsonb lists bind as one jsonb[] parameter.
    let (sql, _) = where_sql(json!({"metadata": {"in": [{"a": 1}, 2]}}));
    assert_eq!(sql, r#""metadata" = ANY($1::jsonb[])"#);
    // A json (not jsonb) column is read as jsonb, which has equality.
    let (sql, _) = where_sql(json!({"settings": {"eq": {"a": 1}}}));
    assert_eq!(sql, r#""settings"::jsonb = $1::jsonb"#);
}

#[test]
fn casts_to_user_types_are_written_as_the_model_names_them() {
    // Postgres allows `$` in an identifier after its first character; the cast is SQL text,
    // so the name is written unchanged (a doubled `$$` would name another type).
    let m = Model::new("Odd").column(Column::new("x", PgType::Custom("my$1type".into())));
    let parse = |w: JsonValue| parse_where(&m, &w, &limits()).map(|c| condition_sql(&m, &c));
    assert_eq!(
        parse(json!({"x": "a"})),
        Ok((r#""x" = $1::text::my$1type"#.into(), vec![s("a")]))
    );
    assert_eq!(
        parse(json!({"x": {"in": ["a", "b"]}})),
        Ok((
            r#""x" = ANY($1::text[]::my$1type[])"#.into(),
            vec![strings(&["a", "b"])]
        ))
    );
}

#[test]
fn pattern_operators_on_non_text_columns() {
    let (sql, values) = where_sql(json!({"age": {"like": "4%"}}));
    assert_eq!(sql, r#""age"::text LIKE $1"#);
    assert_eq!(values, vec![s("4%")]);
    for (w, op) in [
        (json!({"tags": {"like": "a"}}), "like"),
        (json!({"avatar": {"ilike": "a"}}), "ilike"),
        (json!({"metadata": {"overlaps": [1]}}), "overlaps"),
        (json!({"age": {"contains": [1]}}), "contains"),
        (json!({"tags": {"in": [["a"]]}}), "in"),
    ] {
        assert_eq!(
            where_err(w.clone()),
            FilterError::OperatorNotApplicable {
                field: w
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .unwrap_or_default(),
                operator: op.into(),
                pg_type: user()
                    .column_by_property(
                        w.as_object()
                            .and_then(|o| o.keys().next())
                            .map(String::as_str)
                            .unwrap_or_default()
                    )
                    .map(|c| c.pg_type.to_string())
                    .unwrap_or_default(),
            },
            "{w}"
        );
    }
    // Patterns are passed through, wildcards and escapes included, as a bound value.
    let (sql, values) = where_sql(json!({"name": {"like": "50\\%_off%"}}));
    assert_eq!(sql, r#""name" LIKE $1"#);
    assert_eq!(values, vec![s("50\\%_off%")]);
}

#[test]
fn values_never_reach_the_sql_text() {
    let hostile = "'; DROP TABLE \"User\"; --";
    let (sql, values) = where_sql(json!({
        "name": hostile,
        "metadata.a": {"like": hostile},
        "tags": {"contains": [hostile]},
        "or": [{"name": {"in": [hostile]}}]
    }));
    assert!(!sql.contains("DROP"), "{sql}");
    // Bound four times: the plain value, the pattern, and inside the two arrays.
    assert_eq!(format!("{values:?}").matches("DROP").count(), 4);
}
