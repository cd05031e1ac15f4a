//! The where forms: implicit equality, every operator, nulls, empty lists and groups, `and` / `or` / `not` nesting.

use super::*;

#[test]
fn implicit_equality_array_and_null() {
    assert_eq!(
        where_sql(json!({"age": 30})),
        (r#""age" = $1"#.into(), vec![SqlValue::Int(Some(30))])
    );
    assert_eq!(
        where_sql(json!({"age": [1, 2]})),
        (r#""age" = ANY($1)"#.into(), vec![ints(&[1, 2])])
    );
    assert_eq!(
        where_sql(json!({"age": null})),
        (r#""age" IS NULL"#.into(), vec![])
    );
    // Several keys are ANDed (in key order, so the same filter always gives the same SQL).
    assert_eq!(
        where_sql(json!({"name": "x", "age": 3})),
        (
            r#"("age" = $1) AND ("name" = $2)"#.into(),
            vec![SqlValue::Int(Some(3)), s("x")]
        )
    );
    // On an array column an array is the whole value, not a list.
    assert_eq!(
        where_sql(json!({"tags": ["a", "b"]})),
        (r#""tags" = $1"#.into(), vec![strings(&["a", "b"])])
    );
    // An object on a jsonb column is JSON equality, bound as jsonb.
    assert_eq!(
        where_sql(json!({"metadata": {"a": 1}})),
        (
            r#""metadata" = $1::jsonb"#.into(),
            vec![SqlValue::Json(Some(Box::new(json!({"a": 1}))))]
        )
    );
}

#[test]
fn every_operator_compiles_to_its_sql() {
    let int = |i: i32| SqlValue::Int(Some(i));
    let cases: Vec<(JsonValue, &str, Vec<SqlValue>)> = vec![
        (json!({"age": {"eq": 5}}), r#""age" = $1"#, vec![int(5)]),
        (json!({"age": {"is": 5}}), r#""age" = $1"#, vec![int(5)]),
        (json!({"age": {"ne": 5}}), r#""age" <> $1"#, vec![int(5)]),
        (json!({"age": {"neq": 5}}), r#""age" <> $1"#, vec![int(5)]),
        (json!({"age": {"isn": 5}}), r#""age" <> $1"#, vec![int(5)]),
        (json!({"age": {"gt": 5}}), r#""age" > $1"#, vec![int(5)]),
        (json!({"age": {"gte": 5}}), r#""age" >= $1"#, vec![int(5)]),
        (json!({"age": {"lt": 5}}), r#""age" < $1"#, vec![int(5)]),
        (json!({"age": {"lte": 5}}), r#""age" <= $1"#, vec![int(5)]),
        (
            json!({"name": {"like": "a%"}}),
            r#""name" LIKE $1"#,
            vec![s("a%")],
        ),
        (
            json!({"name": {"nlike": "a%"}}),
            r#""name" NOT LIKE $1"#,
            vec![s("a%")],
        ),
        (
            json!({"name": {"ilike": "a%"}}),
            r#""name" ILIKE $1"#,
            vec![s("a%")],
        ),
        (
            json!({"name": {"nilike": "a%"}}),
            r#""name" NOT ILIKE $1"#,
            vec![s("a%")],
        ),
        (
            json!({"name": {"regexp": "^a"}}),
            r#""name" ~ $1"#,
            vec![s("^a")],
        ),
        (
            json!({"name": {"iregexp": "^a"}}),
            r#""name" ~* $1"#,
            vec![s("^a")],
        ),
        (
            json!({"age": {"in": [1, 2]}}),
            r#""age" = ANY($1)"#,
            vec![ints(&[1, 2])],
        ),
        (
            json!({"age": {"inq": [1, 2]}}),
            r#""age" = ANY($1)"#,
            vec![ints(&[1, 2])],
        ),
        (
            json!({"age": {"nin": [1, 2]}}),
            r#""age" <> ALL($1)"#,
            vec![ints(&[1, 2])],
        ),
        // A scalar given to in / nin is a one-element list (Ignis: equality / inequality).
        (
            json!({"age": {"in": 7}}),
            r#""age" = ANY($1)"#,
            vec![ints(&[7])],
        ),
        (
            json!({"age": {"between": [1, 9]}}),
            r#""age" BETWEEN $1 AND $2"#,
            vec![int(1), int(9)],
        ),
        (
            json!({"age": {"notBetween": [1, 9]}}),
            r#""age" NOT BETWEEN $1 AND $2"#,
            vec![int(1), int(9)],
        ),
        (
            json!({"tags": {"contains": ["a"]}}),
            r#""tags" @> $1"#,
            vec![strings(&["a"])],
        ),
        // Ignis wraps a scalar into a one-element array.
        (
            json!({"tags": {"contains": "a"}}),
            r#""tags" @> $1"#,
            vec![strings(&["a"])],
        ),
        (
            json!({"tags": {"containedBy": ["a", "b"]}}),
            r#""tags" <@ $1"#,
            vec![strings(&["a", "b"])],
        ),
        (
            json!({"tags": {"overlaps": ["a", "b"]}}),
            r#""tags" && $1"#,
            vec![strings(&["a", "b"])],
        ),
        (
            json!({"metadata": {"contains": {"a": 1}}}),
            r#""metadata" @> $1::jsonb"#,
            vec![SqlValue::Json(Some(Box::new(json!({"a": 1}))))],
        ),
        (
            json!({"metadata": {"containedBy": {"a": 1, "b": 2}}}),
            r#""metadata" <@ $1::jsonb"#,
            vec![SqlValue::Json(Some(Box::new(json!({"a": 1, "b": 2}))))],
        ),
        (
            json!({"name": {"exists": true}}),
            r#""name" IS NOT NULL"#,
            vec![],
        ),
        (
            json!({"name": {"exists": false}}),
            r#""name" IS NULL"#,
            vec![],
        ),
        (
            json!({"name": {"notExists": true}}),
            r#""name" IS NULL"#,
            vec![],
        ),
        (
            json!({"age": {"not": {"gt": 5}}}),
            r#"NOT ("age" > $1)"#,
            vec![int(5)],
        ),
        (
            json!({"age": {"not": 5}}),
            r#"NOT ("age" = $1)"#,
            vec![int(5)],
        ),
        (
            json!({"age": {"gte": 18, "lt": 65}}),
            r#"("age" >= $1) AND ("age" < $2)"#,
            vec![int(18), int(65)],
        ),
    ];
    for (w, sql, values) in cases {
        assert_eq!(where_sql(w.clone()), (sql.to_string(), values), "{w}");
    }
}

#[test]
fn null_edge_cases() {
    for op in ["eq", "is"] {
        assert_eq!(
            where_sql(json!({"age": {op: null}})),
            (r#""age" IS NULL"#.into(), vec![])
        );
    }
    for op in ["ne", "neq", "isn"] {
        assert_eq!(
            where_sql(json!({"age": {op: null}})),
            (r#""age" IS NOT NULL"#.into(), vec![])
        );
    }
    for op in ["gt", "like", "between", "contains", "in"] {
        assert_eq!(
            where_err(json!({"name": {op: null}})).kind(),
            FilterErrorKind::InvalidValue,
            "{op}: null"
        );
    }
    // A null inside a list is a NULL element of the one array parameter (SQL semantics, as
    // Ignis's `IN (1, NULL)`): on a column, on a JSON path compared numerically, and as text.
    let with_null = |items: Vec<SqlValue>, ty| SqlValue::Array(ty, Some(Box::new(items)));
    for op in ["in", "inq"] {
        assert_eq!(
            where_sql(json!({"age": {op: [1, null]}})),
            (
                r#""age" = ANY($1)"#.into(),
                vec![with_null(
                    vec![SqlValue::Int(Some(1)), SqlValue::Int(None)],
                    ArrayType::Int
                )]
            ),
            "{op}"
        );
    }
    assert_eq!(
        where_sql(json!({"age": {"nin": [null, 2]}})),
        (
            r#""age" <> ALL($1)"#.into(),
            vec![with_null(
                vec![SqlValue::Int(None), SqlValue::Int(Some(2))],
                ArrayType::Int
            )]
        )
    );
    assert_eq!(
        where_sql(json!({"name": [null]})),
        (
            r#""name" = ANY($1)"#.into(),
            vec![with_null(vec![SqlValue::String(None)], ArrayType::String)]
        )
    );
    let (sql, values) = where_sql(json!({"metadata.k": {"in": [1.5, null]}}));
    assert!(sql.ends_with("= ANY($2::text[]::numeric[])"), "{sql}");
    assert_eq!(
        values[1],
        with_null(vec![s("1.5"), SqlValue::String(None)], ArrayType::String)
    );
    let (sql, values) = where_sql(json!({"metadata.k": {"nin": ["a", null, 2]}}));
    assert_eq!(sql, r#"("metadata" #>> $1) <> ALL($2)"#);
    assert_eq!(
        values[1],
        with_null(
            vec![s("a"), SqlValue::String(None), s("2")],
            ArrayType::String
        )
    );
    // The elements are still coerced: a null does not excuse a bad neighbour.
    assert_eq!(
        where_err(json!({"age": {"in": [null, "x"]}})).kind(),
        FilterErrorKind::InvalidValue
    );
}

#[test]
fn empty_lists_and_groups() {
    assert_eq!(
        where_sql(json!({"age": {"in": []}})),
        ("FALSE".into(), vec![])
    );
    assert_eq!(
        where_sql(json!({"age": {"inq": []}})),
        ("FALSE".into(), vec![])
    );
    assert_eq!(where_sql(json!({"age": []})), ("FALSE".into(), vec![]));
    assert_eq!(
        where_sql(json!({"age": {"nin": []}})),
        ("TRUE".into(), vec![])
    );
    assert_eq!(where_sql(json!({"or": []})), ("TRUE".into(), vec![]));
    assert_eq!(where_sql(json!({"and": []})), ("TRUE".into(), vec![]));
    assert_eq!(where_sql(json!({})), ("TRUE".into(), vec![]));
    assert_eq!(
        where_sql(json!({"or": [], "and": [], "age": 1})),
        (r#""age" = $1"#.into(), vec![SqlValue::Int(Some(1))])
    );
    assert_eq!(
        where_sql(json!({"tags": {"contains": []}})),
        ("TRUE".into(), vec![])
    );
    assert_eq!(
        where_sql(json!({"tags": {"overlaps": []}})),
        ("FALSE".into(), vec![])
    );
    // A where that restricts nothing is no where at all in a Filter.
    assert_eq!(filter(json!({"where": {"or": []}})).r#where, None);
    assert_eq!(filter(json!({"where": {"age": {"nin": []}}})).r#where, None);
}

#[test]
fn between_is_inclusive_exactly_two_and_not_symmetric() {
    let (sql, values) = where_sql(json!({"age": {"between": [9, 1]}}));
    assert_eq!(sql, r#""age" BETWEEN $1 AND $2"#);
    // Bounds keep their order: [9, 1] matches nothing, as SQL BETWEEN (not BETWEEN SYMMETRIC).
    assert_eq!(values, vec![SqlValue::Int(Some(9)), SqlValue::Int(Some(1))]);
    for bad in [
        json!([1]),
        json!([1, 2, 3]),
        json!(5),
        json!([null, 2]),
        json!({}),
    ] {
        let e = where_err(json!({"age": {"between": bad}}));
        assert_eq!(e.kind(), FilterErrorKind::InvalidValue, "{bad}");
    }
}

#[test]
fn and_or_nest_and_parenthesise() {
    let (sql, values) = where_sql(json!({
        "or": [
            {"age": 1},
            {"and": [{"name": "a"}, {"age": {"gt": 2}}]},
            {"or": [{"active": true}, {"rank": 3}]}
        ]
    }));
    assert_eq!(
        sql,
        r#"("age" = $1) OR (("name" = $2) AND ("age" > $3)) OR (("active" = $4) OR ("rank" = $5))"#
    );
    assert_eq!(
        values,
        vec![
            SqlValue::Int(Some(1)),
            s("a"),
            SqlValue::Int(Some(2)),
            SqlValue::Bool(Some(true)),
            SqlValue::SmallInt(Some(3)),
        ]
    );
    // A group next to a field: both must hold.
    let (sql, _) = where_sql(json!({"name": "a", "or": [{"age": 1}, {"age": 2}]}));
    assert_eq!(sql, r#"("name" = $1) AND (("age" = $2) OR ("age" = $3))"#);
    // `and` / `or` given one object instead of an array (Ignis accepts it).
    let (sql, _) = where_sql(json!({"or": {"age": 1}}));
    assert_eq!(sql, r#""age" = $1"#);
    // Top-level `not` (an ignis-rs extension).
    let (sql, _) = where_sql(json!({"not": {"age": 1, "name": "a"}}));
    assert_eq!(sql, r#"NOT (("age" = $1) AND ("name" = $2))"#);
}
