//! JSON paths: compared as text, numerically for numbers, as jsonb for objects, containment and existence; malformed paths refused.

use super::*;

#[test]
fn json_paths_compare_as_text() {
    assert_eq!(
        where_sql(json!({"metadata.a.b": "x"})),
        (
            r#"("metadata" #>> $1) = $2"#.into(),
            vec![strings(&["a", "b"]), s("x")]
        )
    );
    assert_eq!(
        where_sql(json!({"metadata.items[0].name": {"ilike": "%x%"}})),
        (
            r#"("metadata" #>> $1) ILIKE $2"#.into(),
            vec![strings(&["items", "0", "name"]), s("%x%")]
        )
    );
    // A boolean compares as its JSON text; `in` with strings is a text[] list.
    assert_eq!(
        where_sql(json!({"metadata.flag": true})).1,
        vec![strings(&["flag"]), s("true")]
    );
    assert_eq!(
        where_sql(json!({"metadata.kind": {"in": ["a", "b"]}})),
        (
            r#"("metadata" #>> $1) = ANY($2)"#.into(),
            vec![strings(&["kind"]), strings(&["a", "b"])]
        )
    );
    // Null at a path: the key is missing or holds JSON null.
    assert_eq!(
        where_sql(json!({"metadata.a": null})),
        (
            r#"("metadata" #>> $1) IS NULL"#.into(),
            vec![strings(&["a"])]
        )
    );
    // A json column's path reads it as jsonb.
    assert_eq!(
        where_sql(json!({"settings.theme": "dark"})).0,
        r#"("settings"::jsonb #>> $1) = $2"#
    );
}

#[test]
fn json_paths_compare_numerically_for_numbers() {
    // The path is bound once and read twice: the guard, then the cast.
    let guarded = r#"CASE WHEN ("metadata" #>> $1) ~ '^-?[0-9]+(\.[0-9]+)?$' THEN ("metadata" #>> $1)::numeric END"#;
    let (sql, values) = where_sql(json!({"metadata.score": {"gt": 5}}));
    assert_eq!(sql, format!("{} > $2::text::numeric", guarded));
    assert_eq!(values, vec![strings(&["score"]), s("5")]);
    // Implicit equality and eq with a number are numeric too, so `10.0` at the path matches
    // `10`. Ignis compares the text form for `eq` (only `10` matches); ignis-rs differs on
    // purpose, so that every operator given a number compares numbers (see the module doc).
    let (sql, _) = where_sql(json!({"metadata.score": 5}));
    assert_eq!(sql, format!("{} = $2::text::numeric", guarded));
    let (sql, values) = where_sql(json!({"metadata.score": {"between": [1.5, 2]}}));
    assert_eq!(
        sql,
        format!(
            "{} BETWEEN $2::text::numeric AND $3::text::numeric",
            guarded
        )
    );
    assert_eq!(values[1..], [s("1.5"), s("2")]);
    // A list of numbers compares numerically, one numeric[] parameter.
    let (sql, values) = where_sql(json!({"metadata.score": {"nin": [1, 2]}}));
    assert_eq!(sql, format!("{} <> ALL($2::text[]::numeric[])", guarded));
    assert_eq!(values[1], strings(&["1", "2"]));
    // A string operand on a range operator compares as text.
    let (sql, _) = where_sql(json!({"metadata.score": {"gt": "5"}}));
    assert_eq!(sql, r#"("metadata" #>> $1) > $2"#);
}

#[test]
fn json_paths_as_jsonb_for_objects_containment_and_existence() {
    assert_eq!(
        where_sql(json!({"metadata.address": {"city": "Hanoi"}})),
        (
            r#"("metadata" #> $1) = $2::jsonb"#.into(),
            vec![
                strings(&["address"]),
                SqlValue::Json(Some(Box::new(json!({"city": "Hanoi"}))))
            ]
        )
    );
    assert_eq!(
        where_sql(json!({"metadata.roles": {"contains": ["admin"]}})).0,
        r#"("metadata" #> $1) @> $2::jsonb"#
    );
    assert_eq!(
        where_sql(json!({"metadata.a": {"exists": true}})),
        (
            r#"("metadata" #> $1) IS NOT NULL"#.into(),
            vec![strings(&["a"])]
        )
    );
    assert_eq!(
        where_sql(json!({"metadata.a": {"notExists": true}})).0,
        r#"("metadata" #> $1) IS NULL"#
    );
    assert_eq!(
        where_err(json!({"metadata.a": {"overlaps": [1]}})).kind(),
        FilterErrorKind::OperatorNotApplicable
    );
    assert_eq!(
        where_err(json!({"metadata.a": {"gt": {"x": 1}}})).kind(),
        FilterErrorKind::InvalidValue
    );
}

#[test]
fn bad_json_paths_are_rejected() {
    for key in [
        "metadata..a",
        "metadata.",
        "metadata.a b",
        "metadata.2a",
        "metadata[x",
        "metadata[0]x",
        "metadata.a'b",
        "name.a",
        ".a",
    ] {
        let e = where_err(json!({key: 1}));
        assert_eq!(e.kind(), FilterErrorKind::InvalidPath, "{key}: {e}");
    }
    let deep = format!("metadata{}", ".a".repeat(40));
    assert_eq!(
        where_err(json!({deep: 1})).kind(),
        FilterErrorKind::InvalidPath
    );
    assert_eq!(
        where_err(json!({"nope.a": 1})),
        FilterError::UnknownField {
            model: "User".into(),
            field: "nope".into()
        }
    );
    // Kebab-case and index segments are fine (Ignis JSON_PATH_PATTERN).
    assert_eq!(
        where_sql(json!({"metadata.user-id[3]._x": "v"})).1[0],
        strings(&["user-id", "3", "_x"])
    );
}
