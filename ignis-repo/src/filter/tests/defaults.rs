//! Default filters (Ignis `defaultFilter`): the JSON merge, where they apply, and the empty-where judgement.

use super::*;

#[test]
fn merge_default_filter_caller_keys_win() {
    let default = json!({
        "where": {"deletedAt": null, "age": {"gt": 1}},
        "order": ["id"],
        "limit": 5,
        "skip": 3
    });
    let caller = json!({
        "where": {"deletedAt": {"neq": null}, "title": "x", "age": {"lt": 9}},
        "order": ["title DESC"],
        "offset": 10,
        "fields": null
    });
    assert_eq!(
        merge_filter_json(&default, &caller),
        json!({
            "where": {"deletedAt": {"neq": null}, "title": "x", "age": {"gt": 1, "lt": 9}},
            "order": ["title DESC"],
            "limit": 5,
            "offset": 10
        })
    );
    assert_eq!(merge_filter_json(&default, &JsonValue::Null), default);
    assert_eq!(
        merge_filter_json(&json!({}), &json!({"where": {"a": 1}})),
        json!({"where": {"a": 1}})
    );
    // `and` lists concatenate, two `or` groups both hold: a default scope is never dropped.
    assert_eq!(
        merge_where_json(
            &json!({"and": [{"t": 1}], "or": [{"a": 1}, {"b": 1}]}),
            &json!({"and": [{"x": 1}], "or": [{"c": 1}]})
        ),
        json!({"and": [{"t": 1}, {"x": 1}, {"or": [{"a": 1}, {"b": 1}]}, {"or": [{"c": 1}]}]})
    );
    // An `and` given as one object (accepted by the parser) concatenates too.
    assert_eq!(
        merge_where_json(&json!({"and": {"t": 1}}), &json!({"and": [{"x": 1}]})),
        json!({"and": [{"t": 1}, {"x": 1}]})
    );
    assert_eq!(
        merge_where_json(&json!({"deletedAt": null}), &JsonValue::Null),
        json!({"deletedAt": null})
    );
}

#[test]
fn default_filters_apply_to_the_model_and_include_scopes() {
    let p = post();
    let parsed = Filter::parse_with_defaults(&p, &schema(), &json!({}), &limits(), false).unwrap();
    let (sql, _, _) = select_sql(&p, &parsed, &[]);
    assert!(sql.ends_with(r#"WHERE "deleted_at" IS NULL"#), "{sql}");
    // Caller keys win.
    let f = Filter::parse_with_defaults(
        &p,
        &schema(),
        &json!({"where": {"deletedAt": {"neq": null}}}),
        &limits(),
        false,
    );
    let w = f.ok().and_then(|f| f.r#where);
    assert!(matches!(&w, Some(Condition::Compare(c)) if c.op == Operator::IsNotNull));
    // Skipped on request.
    let f = Filter::parse_with_defaults(&p, &schema(), &json!({}), &limits(), true);
    assert_eq!(f.map(|f| f.r#where), Ok(None));
    // Inside includes, per related model, unless the inclusion skips it.
    let u = user();
    let f = Filter::parse_with_defaults(
        &u,
        &schema(),
        &json!({"include": ["posts"]}),
        &limits(),
        false,
    )
    .unwrap();
    assert!(f.include[0]
        .scope
        .as_ref()
        .and_then(|s| s.r#where.as_ref())
        .is_some());
    let f = Filter::parse_with_defaults(
        &u,
        &schema(),
        &json!({"include": [{"relation": "posts", "shouldSkipDefaultFilter": true}]}),
        &limits(),
        false,
    )
    .unwrap();
    assert_eq!(f.include[0].scope, None);
    // Plain parse applies no default.
    assert_eq!(filter(json!({"include": ["posts"]})).include[0].scope, None);
    // The where-only form.
    let w = parse_where_with_defaults(&p, &json!({"title": "a"}), &limits(), false);
    assert!(matches!(w, Ok(Condition::And(ref parts)) if parts.len() == 2));
}

#[test]
fn empty_where_detection() {
    for empty in [
        None,
        Some(json!(null)),
        Some(json!({})),
        Some(json!({"and": []})),
        Some(json!({"or": []})),
        Some(json!({"and": [{}, {"or": []}]})),
        Some(json!({"or": [{}, {"age": 1}]})),
    ] {
        assert!(is_empty_where(empty.as_ref()), "{empty:?}");
    }
    for restricting in [
        json!({"age": 1}),
        json!({"deletedAt": null}),
        json!({"and": [{}, {"age": 1}]}),
        json!({"or": [{"age": 1}]}),
        json!({"not": {}}),
        json!([]),
    ] {
        assert!(!is_empty_where(Some(&restricting)), "{restricting}");
    }
}
