//! Property tests: arbitrary JSON never panics, generated valid filters parse and number exactly the values they bind, and merges keep every condition.

use super::*;

fn arbitrary_json() -> impl Strategy<Value = JsonValue> {
    let keys = prop_oneof![
        Just("and".to_string()),
        Just("or".to_string()),
        Just("not".to_string()),
        Just("age".to_string()),
        Just("name".to_string()),
        Just("metadata".to_string()),
        Just("metadata.a.b".to_string()),
        Just("metadata[0]".to_string()),
        Just("tags".to_string()),
        Just("lastLoginAt".to_string()),
        Just("avatar".to_string()),
        Just("score".to_string()),
        Just("settings.x".to_string()),
        Just("password".to_string()),
        Just("rank".to_string()),
        Just("active".to_string()),
        prop::sample::select(parse_operators()).prop_map(str::to_string),
        "[a-z.\\[\\]0-9]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(JsonValue::Null),
        any::<bool>().prop_map(JsonValue::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!("2024-01-31T12:00:00Z")),
        Just(json!("\\x00ff")),
        ".{0,12}".prop_map(JsonValue::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(JsonValue::Array),
            prop::collection::vec((keys.clone(), inner), 0..5)
                .prop_map(|entries| JsonValue::Object(entries.into_iter().collect())),
        ]
    })
}

fn parse_operators() -> Vec<&'static str> {
    OPERATORS.iter().copied().filter(|o| *o != "not").collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_where_never_panics(w in arbitrary_json()) {
        let m = user();
        if let Ok(condition) = parse_where(&m, &w, &limits()) {
            // Writing its SQL cannot panic either, and numbers exactly the values it binds.
            let (sql, values) = condition_sql(&m, &condition);
            prop_assert!(!sql.is_empty());
            prop_assert_eq!(placeholders(&sql), (1..=values.len()).collect::<Vec<_>>(), "{}", sql);
        }
    }

    #[test]
    fn valid_filters_parse_and_bind_exactly_the_values_they_number(filter in valid_filter()) {
        let m = user();
        let parsed = Filter::parse_with_defaults(&m, &schema(), &filter, &limits(), false);
        let parsed = match parsed {
            Ok(f) => f,
            Err(e) => return Err(TestCaseError::fail(format!("{filter} should parse: {e}"))),
        };
        let (sql, values, indexes) = select_sql(&m, &parsed, &["id"]);
        prop_assert!(indexes.contains(&0));
        // The distinct placeholders are exactly $1..$n for n values: as many placeholders as
        // values, the highest one the last value, none skipped (a JSON path read numerically
        // uses its one parameter twice).
        let numbers = placeholders(&sql);
        prop_assert_eq!(numbers.len(), values.len(), "{}", sql);
        prop_assert_eq!(numbers.last().copied().unwrap_or(0), values.len(), "{}", sql);
        prop_assert_eq!(numbers, (1..=values.len()).collect::<Vec<_>>(), "{}", sql);
        // The where alone writes the same text and values as inside the SELECT.
        if let Some(w) = parsed.r#where.as_ref().filter(|w| !w.matches_everything()) {
            let (where_sql, where_values) = condition_sql(&m, w);
            prop_assert!(sql.contains(&format!(" WHERE {where_sql}")), "{}", sql);
            prop_assert_eq!(&values[..where_values.len()], &where_values[..]);
        }
    }

    #[test]
    fn merged_wheres_keep_every_condition_of_both(a in arbitrary_json(), b in arbitrary_json()) {
        let merged = merge_where_json(&a, &b);
        match (&a, &b) {
            (_, JsonValue::Null) => prop_assert_eq!(&merged, &a),
            (JsonValue::Object(default), JsonValue::Object(caller)) => {
                let out = merged.as_object();
                prop_assert!(out.is_some(), "{merged}");
                let out = out.unwrap();
                let both_or = default.contains_key("or") && caller.contains_key("or");
                for (side, other) in [(default, caller), (caller, default)] {
                    for (key, value) in side {
                        if key == "or" && both_or {
                            continue;
                        }
                        prop_assert!(out.contains_key(key), "{key} lost: {merged}");
                        if key != "and" && !other.contains_key(key) {
                            prop_assert_eq!(&out[key], value);
                        }
                    }
                }
                if both_or {
                    // Two `or` groups become two conjuncts: both must hold.
                    prop_assert!(!out.contains_key("or"));
                    let conjuncts = out.get("and").and_then(JsonValue::as_array);
                    prop_assert!(conjuncts.is_some(), "{merged}");
                    let conjuncts = conjuncts.unwrap();
                    for side in [default, caller] {
                        let group = json!({"or": side["or"].clone()});
                        prop_assert!(conjuncts.contains(&group), "{group} lost: {merged}");
                    }
                }
                // Merging never widens a where to everything: it is empty only if both are.
                if !is_empty_where(Some(&a)) || !is_empty_where(Some(&b)) {
                    prop_assert!(!is_empty_where(Some(&merged)), "{a} + {b} = {merged}");
                }
            }
            _ => prop_assert_eq!(&merged, &b),
        }
    }

    #[test]
    fn merged_filters_take_the_callers_keys_and_keep_the_defaults_others(
        a in arbitrary_json(),
        b in arbitrary_json(),
    ) {
        let merged = merge_filter_json(&a, &b);
        match (&a, &b) {
            (JsonValue::Object(default), JsonValue::Object(caller)) => {
                let out = merged.as_object();
                prop_assert!(out.is_some(), "{merged}");
                let out = out.unwrap();
                let pages = ["skip", "offset"]
                    .iter()
                    .any(|k| caller.get(*k).is_some_and(|v| !v.is_null()));
                for (key, value) in caller.iter().filter(|(_, v)| !v.is_null()) {
                    let expected = match (key.as_str(), default.get(key)) {
                        ("where", Some(dw)) if !dw.is_null() => merge_where_json(dw, value),
                        _ => value.clone(),
                    };
                    prop_assert_eq!(&out[key], &expected, "caller's {}", key);
                }
                for (key, value) in default {
                    if caller.get(key).is_some_and(|v| !v.is_null()) {
                        continue;
                    }
                    if pages && (key == "skip" || key == "offset") {
                        prop_assert!(!out.contains_key(key), "default {key} kept: {merged}");
                    } else {
                        prop_assert_eq!(&out[key], value, "default's {}", key);
                    }
                }
            }
            (JsonValue::Object(_), JsonValue::Null) => prop_assert_eq!(&merged, &a),
            _ => prop_assert_eq!(&merged, &b),
        }
    }
}

/// The numbers of the `$n` placeholders of `sql`, sorted and deduplicated.
fn placeholders(sql: &str) -> Vec<usize> {
    let mut numbers: Vec<usize> = sql
        .split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// One condition the parser must accept on [`user`]: a known field, an operator that applies
/// to it, an operand of the right type.
fn valid_condition() -> impl Strategy<Value = JsonValue> {
    use prop::sample::select;
    let nullable_ints = prop::collection::vec(
        prop_oneof![3 => any::<i16>().prop_map(|n| json!(n)), 1 => Just(JsonValue::Null)],
        0..4,
    );
    let path_scalar = prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<i32>().prop_map(|n| json!(f64::from(n) / 8.0)),
        "[a-z]{0,5}".prop_map(|s| json!(s)),
        any::<bool>().prop_map(|b| json!(b)),
    ];
    prop_oneof![
        (
            select(vec!["eq", "neq", "gt", "gte", "lt", "lte", "is", "isn"]),
            any::<i32>()
        )
            .prop_map(|(op, n)| json!({"age": {op: n}})),
        (select(vec!["in", "inq", "nin"]), nullable_ints)
            .prop_map(|(op, v)| json!({"rank": {op: v}})),
        (
            select(vec![
                "like", "nlike", "ilike", "nilike", "regexp", "iregexp"
            ]),
            "[a-z%_]{0,6}",
        )
            .prop_map(|(op, p)| json!({"name": {op: p}})),
        (
            any::<i32>(),
            any::<i32>(),
            select(vec!["between", "notBetween"])
        )
            .prop_map(|(a, b, op)| json!({"age": {op: [a, b]}})),
        (
            select(vec!["metadata.a.b", "metadata[0].k", "settings.x"]),
            path_scalar.clone()
        )
            .prop_map(|(key, v)| object(key, v)),
        (
            select(vec!["metadata.a", "settings.x"]),
            select(vec!["eq", "neq", "gt", "lte"]),
            path_scalar,
        )
            .prop_map(|(key, op, v)| object(key, json!({op: v}))),
        prop::collection::vec("[a-z]{1,4}", 0..3).prop_map(|t| json!({"tags": {"contains": t}})),
        any::<bool>().prop_map(|b| json!({"active": b})),
        (
            select(vec!["exists", "notExists"]),
            any::<bool>(),
            select(vec!["metadata.a", "name"]),
        )
            .prop_map(|(op, b, key)| object(key, json!({op: b}))),
        (0_i64..4_102_444_800_000).prop_map(|ms| json!({"lastLoginAt": {"gte": ms}})),
        Just(json!({"password": null})),
        "[0-9]{1,3}\\.[0-9]{2}".prop_map(|s| json!({"score": {"lt": s}})),
        prop::collection::vec(any::<i32>(), 0..4).prop_map(|v| json!({"age": v})),
    ]
}

/// Valid where objects: [`valid_condition`]s in `and` / `or` / `not` groups, three levels at
/// most (the limit is 16).
fn valid_where() -> impl Strategy<Value = JsonValue> {
    valid_condition().prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"and": v})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"or": v})),
            inner.prop_map(|w| json!({"not": w})),
        ]
    })
}

/// Valid filters: a where, order terms, limit, skip and an include with a scope.
fn valid_filter() -> impl Strategy<Value = JsonValue> {
    let order = prop::collection::vec(
        prop::sample::select(vec![
            "age",
            "name DESC",
            "metadata.a.b ASC NULLS FIRST",
            "lastLoginAt desc nulls last",
            "rank",
        ]),
        0..3,
    );
    (
        valid_where(),
        order,
        prop::option::of(0_u64..1000),
        prop::option::of(0_u64..1000),
        prop::option::of("[a-z%]{0,4}"),
    )
        .prop_map(|(w, order, limit, skip, include)| {
            let mut f = serde_json::Map::new();
            f.insert("where".into(), w);
            f.insert("order".into(), json!(order));
            if let Some(l) = limit {
                f.insert("limit".into(), json!(l));
            }
            if let Some(s) = skip {
                f.insert("skip".into(), json!(s));
            }
            if let Some(title) = include {
                let scope = json!({"where": {"title": {"like": title}}, "order": "id DESC"});
                f.insert(
                    "include".into(),
                    json!([{"relation": "posts", "scope": scope}]),
                );
            }
            JsonValue::Object(f)
        })
}

/// Arbitrary filters around [`arbitrary_json`] wheres: none may panic, and a fair share of
/// them must parse, or the property would hold of a parser that refuses everything.
#[test]
fn arbitrary_filters_never_panic_and_a_share_of_them_parse() {
    use proptest::test_runner::{Config, TestRunner};
    use std::cell::Cell;
    let strategy = (
        prop_oneof![arbitrary_json(), valid_where()],
        prop::option::of(".{0,20}"),
        prop::option::of(any::<i64>()),
        prop::option::of(prop::sample::select(vec!["posts", "author", "nope"])),
    );
    let cases = 2000;
    let (parsed, refused) = (Cell::new(0_u32), Cell::new(0_u32));
    let mut runner = TestRunner::new(Config::with_cases(cases));
    let result = runner.run(&strategy, |(w, order, limit, include)| {
        let mut f = serde_json::Map::new();
        f.insert("where".into(), w);
        if let Some(o) = order {
            f.insert("order".into(), json!(o));
        }
        if let Some(l) = limit {
            f.insert("limit".into(), json!(l));
        }
        if let Some(i) = include {
            f.insert("include".into(), json!([i]));
        }
        let json = JsonValue::Object(f);
        let m = user();
        match Filter::parse_with_defaults(&m, &schema(), &json, &limits(), false) {
            Ok(filter) => {
                parsed.set(parsed.get() + 1);
                let (sql, values, indexes) = select_sql(&m, &filter, &["id"]);
                prop_assert!(sql.starts_with("SELECT"));
                prop_assert_eq!(placeholders(&sql), (1..=values.len()).collect::<Vec<_>>());
                prop_assert!(indexes.contains(&0));
            }
            Err(e) => {
                refused.set(refused.get() + 1);
                // Every refusal is a typed error with a message of bounded length.
                prop_assert!(
                    !e.to_string().is_empty() && e.to_string().len() < 400,
                    "{e}"
                );
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (parsed, refused) = (parsed.get(), refused.get());
    assert!(
        parsed >= cases / 10 && refused >= cases / 10,
        "{parsed} parsed, {refused} refused of {cases}"
    );
}
