//! Value depth: values nested beyond the limit are refused without recursion, so no input overflows the stack.

use super::*;

/// `levels` arrays (or single-key objects) around `1`, built iteratively.
fn nested(levels: usize, objects: bool) -> JsonValue {
    let mut v = json!(1);
    for _ in 0..levels {
        v = if objects {
            object("a", v)
        } else {
            JsonValue::Array(vec![v])
        };
    }
    v
}

fn too_deep(field: &str, limit: usize) -> FilterError {
    FilterError::ValueTooDeep {
        field: field.into(),
        limit,
    }
}

#[test]
fn values_nested_beyond_the_limit_are_refused_without_overflowing_the_stack() {
    let limit = limits().max_value_depth;
    assert_eq!(limit, 256);
    let post = post();
    for levels in [10_000, 100_000] {
        for objects in [false, true] {
            let deep = nested(levels, objects);
            let wheres: Vec<(JsonValue, &str)> = vec![
                (object("metadata", deep), "metadata"),
                (
                    object("metadata", object("contains", nested(levels, objects))),
                    "metadata",
                ),
                (
                    object("metadata.a", object("eq", nested(levels, objects))),
                    "metadata.a",
                ),
                (
                    object("settings", object("not", nested(levels, objects))),
                    "settings",
                ),
                (
                    object(
                        "age",
                        object("in", JsonValue::Array(vec![nested(levels, objects)])),
                    ),
                    "age",
                ),
                (
                    object("tags", object("contains", nested(levels, objects))),
                    "tags",
                ),
            ];
            for (w, field) in wheres {
                assert_eq!(
                    parse_where(&user(), &w, &limits()),
                    Err(too_deep(field, limit))
                );
                let f = object("where", w);
                assert_eq!(
                    Filter::parse(&user(), &schema(), &f, &limits()),
                    Err(too_deep(field, limit))
                );
                assert_eq!(
                    Filter::parse_with_defaults(&user(), &schema(), &f, &limits(), false),
                    Err(too_deep(field, limit))
                );
                dismantle(f);
            }
            // A model with a default filter: the merge (which clones) never sees the value.
            let w = object("title", object("nin", nested(levels, objects)));
            assert_eq!(
                parse_where_with_defaults(&post, &w, &limits(), false),
                Err(too_deep("title", limit))
            );
            let f = object("where", w);
            assert_eq!(
                Filter::parse_with_defaults(&post, &schema(), &f, &limits(), false),
                Err(too_deep("title", limit))
            );
            dismantle(f);
            // In an include scope whose target has a default filter (merged under the scope).
            let scope = object("where", object("title", nested(levels, objects)));
            let mut inclusion = serde_json::Map::new();
            inclusion.insert("relation".into(), json!("posts"));
            inclusion.insert("scope".into(), scope);
            let f = object(
                "include",
                JsonValue::Array(vec![JsonValue::Object(inclusion)]),
            );
            assert_eq!(
                Filter::parse_with_defaults(&user(), &schema(), &f, &limits(), false),
                Err(too_deep("title", limit))
            );
            dismantle(f);
            // coerce_value and check_value_depth on their own.
            let deep = nested(levels, objects);
            assert_eq!(
                coerce_value("metadata", &PgType::Jsonb, &deep),
                Err(too_deep("metadata", 1024))
            );
            let jsonb_array = PgType::Array(Box::new(PgType::Jsonb));
            let list = JsonValue::Array(vec![deep]);
            assert_eq!(
                coerce_value("docs", &jsonb_array, &list),
                Err(too_deep("docs", 1024))
            );
            assert_eq!(
                check_value_depth("docs", &list, limit),
                Err(too_deep("docs", limit))
            );
            assert!(!is_empty_where(Some(&list)));
            dismantle(list);
        }
        // Groups nested as deep: the nesting limit answers, on the default-filter path too.
        let mut groups = json!({"title": "a"});
        for _ in 0..levels {
            groups = object("and", JsonValue::Array(vec![groups]));
        }
        assert_eq!(
            parse_where_with_defaults(&post, &groups, &limits(), false),
            Err(FilterError::TooDeep { limit: 16 })
        );
        let f = object("where", groups);
        assert_eq!(
            Filter::parse_with_defaults(&post, &schema(), &f, &limits(), false),
            Err(FilterError::TooDeep { limit: 16 })
        );
        dismantle(f);
    }
}

#[test]
fn value_depth_is_measured_in_container_levels_up_to_the_limit() {
    let limit = limits().max_value_depth;
    for objects in [false, true] {
        let at_limit = nested(limit, objects);
        assert_eq!(check_value_depth("v", &at_limit, limit), Ok(()));
        assert!(parse_where(&user(), &object("metadata", at_limit.clone()), &limits()).is_ok());
        assert!(coerce_value("v", &PgType::Jsonb, &at_limit).is_ok());
        let over = nested(limit + 1, objects);
        assert_eq!(
            check_value_depth("v", &over, limit),
            Err(too_deep("v", limit))
        );
        let e = parse_where(&user(), &object("metadata", over), &limits());
        assert_eq!(e, Err(too_deep("metadata", limit)));
        assert_eq!(
            e.map_err(|e| (e.kind(), e.to_string())),
            Err((
                FilterErrorKind::ValueTooDeep,
                "the value given for `metadata` nests arrays and objects deeper than 256 levels"
                    .into()
            ))
        );
    }
    // Scalars are level 0; siblings do not add up; empty containers count as a level.
    assert_eq!(check_value_depth("v", &json!("x"), 0), Ok(()));
    assert_eq!(check_value_depth("v", &json!([]), 0), Err(too_deep("v", 0)));
    assert_eq!(
        check_value_depth("v", &json!([[1], [2], {"a": [3]}]), 3),
        Ok(())
    );
    assert_eq!(
        check_value_depth("v", &json!([[1], [2], {"a": [[3]]}]), 3),
        Err(too_deep("v", 3))
    );
    // A repository's own limit applies to where operands.
    let strict = FilterLimits {
        max_value_depth: 2,
        ..FilterLimits::default()
    };
    assert!(parse_where(&user(), &json!({"metadata": {"a": [1]}}), &strict).is_ok());
    assert_eq!(
        parse_where(
            &user(),
            &json!({"metadata": {"contains": {"a": [[1]]}}}),
            &strict
        ),
        Err(too_deep("metadata", 2))
    );
    // The NUL check walks the same way, keys included.
    let mut deep_nul = json!("\u{0}");
    for _ in 0..100 {
        deep_nul = object("a", deep_nul);
    }
    let e = coerce_value("m", &PgType::Jsonb, &deep_nul);
    assert!(e.is_err_and(|e| e.to_string().contains("NUL")));
}
