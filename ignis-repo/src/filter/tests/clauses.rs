//! `fields`, `order`, `limit` and `skip`, and the whole SELECT the engine writes for a filter.

use super::*;

#[test]
fn fields_array_and_object_forms() {
    assert_eq!(
        filter(json!({"fields": ["id", "name", "id"]})).fields,
        Some(Fields::Include(vec!["id".into(), "name".into()]))
    );
    assert_eq!(
        filter(json!({"fields": {"name": true, "age": false}})).fields,
        Some(Fields::Include(vec!["name".into()]))
    );
    assert_eq!(
        filter(json!({"fields": {"age": false, "tags": false}})).fields,
        Some(Fields::Exclude(vec!["age".into(), "tags".into()]))
    );
    assert_eq!(filter(json!({"fields": []})).fields, None);
    assert_eq!(filter(json!({"fields": {}})).fields, None);
    assert_eq!(
        filter_err(json!({"fields": ["id", "nope"]})),
        FilterError::UnknownField {
            model: "User".into(),
            field: "nope".into()
        }
    );
    assert_eq!(
        filter_err(json!({"fields": {"name": 1}})).kind(),
        FilterErrorKind::InvalidValue
    );
    assert_eq!(
        filter_err(json!({"fields": "name"})).kind(),
        FilterErrorKind::Malformed
    );
}

#[test]
fn hidden_properties_are_never_selected_but_usable_in_where() {
    let m = user();
    let f = filter(json!({"fields": ["id", "password"], "where": {"password": "h"}}));
    let (sql, values, indexes) = select_sql(&m, &f, &[]);
    assert_eq!(indexes, vec![0]);
    assert_eq!(
        sql,
        r#"SELECT "id" FROM "public"."User" WHERE "password" = $1"#
    );
    assert_eq!(values, vec![s("h")]);
    // All fields: everything but the hidden one.
    let all = filter(json!({})).output_columns(&m);
    assert_eq!(all, vec![0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11]);
    // Excluding: still never the hidden one.
    let f = filter(json!({"fields": {"age": false}}));
    assert_eq!(f.output_columns(&m), vec![0, 2, 3, 4, 5, 6, 7, 9, 10, 11]);
}

#[test]
fn select_builds_the_whole_statement() {
    let m = user();
    let f = filter(json!({
        "fields": {"name": true},
        "where": {"age": {"gt": 18}},
        "order": "name DESC",
        "limit": 10,
        "skip": 20
    }));
    // The join property `id` is selected though `fields` leaves it out; unknown names are
    // ignored. Limit and skip are literals the planner can see, not parameters.
    let (sql, values, indexes) = select_sql(&m, &f, &["id", "nope"]);
    assert_eq!(indexes, vec![0, 2]);
    assert_eq!(
        sql,
        r#"SELECT "id", "name" FROM "public"."User" WHERE "age" > $1 ORDER BY "name" DESC LIMIT 10 OFFSET 20"#
    );
    assert_eq!(values, vec![SqlValue::Int(Some(18))]);
    // The schema-qualified table of another schema, and no clauses for an empty filter.
    let p = post();
    let (sql, values, indexes) = select_sql(&p, &Filter::default(), &[]);
    assert_eq!(indexes, vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(values, vec![]);
    assert_eq!(
        sql,
        r#"SELECT "id", "created_at", "modified_at", "deleted_at", "author_id", "title" FROM "blog"."Post""#
    );
}

#[test]
fn order_parsing() {
    let terms = filter(json!({"order": ["age", "name desc", "rank ASC NULLS FIRST"]})).order;
    let summary: Vec<_> = terms
        .iter()
        .map(|t| (&*t.field.property, t.direction, t.nulls))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("age", Direction::Asc, None),
            ("name", Direction::Desc, None),
            ("rank", Direction::Asc, Some(Nulls::First)),
        ]
    );
    // One string, comma-separated terms, NULLS LAST after DESC.
    let f = filter(json!({"order": "age DESC NULLS LAST, metadata.score"}));
    let (sql, values, _) = select_sql(&user(), &f, &[]);
    assert!(
        sql.ends_with(r#"ORDER BY "age" DESC NULLS LAST, ("metadata" #> $1) ASC"#),
        "{sql}"
    );
    assert_eq!(values, vec![strings(&["score"])]);
    for bad in [
        json!("name sideways"),
        json!("name DESC extra"),
        json!("name NULLS"),
        json!("name NULLS middle"),
        json!(""),
        json!(["age", " "]),
        json!([5]),
    ] {
        assert_eq!(
            filter_err(json!({"order": bad})).kind(),
            FilterErrorKind::InvalidOrder,
            "{bad}"
        );
    }
    assert_eq!(
        filter_err(json!({"order": "nope DESC"})),
        FilterError::UnknownField {
            model: "User".into(),
            field: "nope".into()
        }
    );
    assert_eq!(
        filter_err(json!({"order": "name.a"})).kind(),
        FilterErrorKind::InvalidPath
    );
    assert_eq!(
        filter_err(json!({"order": {"name": "DESC"}})).kind(),
        FilterErrorKind::Malformed
    );
}

#[test]
fn limit_skip_offset() {
    let f = filter(json!({"limit": 10, "offset": 5}));
    assert_eq!((f.limit, f.skip), (Some(10), Some(5)));
    // skip wins over offset.
    let f = filter(json!({"limit": "10", "skip": 1, "offset": 5}));
    assert_eq!((f.limit, f.skip), (Some(10), Some(1)));
    let f = filter(json!({"limit": null, "skip": 0}));
    assert_eq!((f.limit, f.skip), (None, Some(0)));
    for bad in [
        json!(-1),
        json!(1.5),
        json!("ten"),
        json!(true),
        json!([1]),
        json!(u64::MAX),
    ] {
        for key in ["limit", "skip", "offset"] {
            assert_eq!(
                filter_err(json!({key: bad})),
                FilterError::InvalidValue {
                    field: key.into(),
                    expected: "a non-negative integer".into(),
                    found: error::describe(&bad),
                },
            );
        }
    }
    // A per-repository maximum: the default limit, and a ceiling.
    let capped = FilterLimits {
        max_limit: Some(100),
        ..FilterLimits::default()
    };
    let f = Filter::parse(&user(), &schema(), &json!({}), &capped);
    assert_eq!(f.map(|f| f.limit), Ok(Some(100)));
    let e = Filter::parse(&user(), &schema(), &json!({"limit": 101}), &capped);
    assert_eq!(e.map_err(|e| e.kind()), Err(FilterErrorKind::InvalidValue));
}
