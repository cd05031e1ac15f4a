//! Every error variant names its problem, and messages quote a short prefix of long input.

use super::*;

#[test]
fn every_error_variant_names_its_problem() {
    let e = where_err(json!({"nope": 1}));
    assert_eq!(e.to_string(), "model `User` has no property `nope`");
    assert_eq!(e.kind(), FilterErrorKind::UnknownField);
    // Column names are not keys: properties are.
    assert_eq!(
        where_err(json!({"last_login_at": null})).kind(),
        FilterErrorKind::UnknownField
    );

    let e = where_err(json!({"age": {"gtx": 1}}));
    assert_eq!(e.to_string(), "unknown operator `gtx` on `age`");
    assert_eq!(e.kind(), FilterErrorKind::UnknownOperator);
    assert_eq!(
        where_err(json!({"age": {"gt": 1, "foo": 2}})),
        FilterError::UnknownOperator {
            field: "age".into(),
            operator: "foo".into()
        }
    );

    let e = where_err(json!({"age": "abc"}));
    assert_eq!(
        e.to_string(),
        "invalid value for `age`: expected an integer between -2147483648 and 2147483647, found \
         the string \"abc\""
    );
    assert_eq!(e.kind(), FilterErrorKind::InvalidValue);
    assert_eq!(
        where_err(json!({"age": 1.5})).kind(),
        FilterErrorKind::InvalidValue
    );
    assert_eq!(
        where_err(json!({"lastLoginAt": "yesterday"})).kind(),
        FilterErrorKind::InvalidValue
    );
    assert_eq!(
        where_err(json!({"age": {}})).kind(),
        FilterErrorKind::InvalidValue
    );

    let e = where_err(json!({"metadata": {"overlaps": [1]}}));
    assert_eq!(
        e.to_string(),
        "operator `overlaps` does not apply to `metadata` of type jsonb"
    );

    let e = filter_err(json!({"include": ["nope"]}));
    assert_eq!(e.to_string(), "model `User` has no relation `nope`");
    assert_eq!(e.kind(), FilterErrorKind::UnknownRelation);

    let mut deep = json!({"age": 1});
    for _ in 0..17 {
        deep = json!({"and": [deep]});
    }
    let e = where_err(deep);
    assert_eq!(e, FilterError::TooDeep { limit: 16 });
    assert_eq!(e.to_string(), "the filter nests deeper than 16 levels");
    let mut ok = json!({"age": 1});
    for _ in 0..16 {
        ok = json!({"or": [ok]});
    }
    assert!(parse_where(&user(), &ok, &limits()).is_ok());
    let mut nots = json!(1);
    for _ in 0..17 {
        nots = json!({"not": nots});
    }
    assert_eq!(
        where_err(json!({"age": nots})),
        FilterError::TooDeep { limit: 16 }
    );

    let many: serde_json::Map<String, JsonValue> = (0..300)
        .map(|i| (format!("metadata.k{i}"), json!(i)))
        .collect();
    let e = where_err(JsonValue::Object(many));
    assert_eq!(e, FilterError::TooManyConditions { limit: 256 });
    assert_eq!(e.kind(), FilterErrorKind::TooManyConditions);

    let small = FilterLimits {
        max_in_list: 2,
        ..FilterLimits::default()
    };
    let e = parse_where(&user(), &json!({"age": [1, 2, 3]}), &small);
    assert_eq!(
        e,
        Err(FilterError::ListTooLong {
            field: "age".into(),
            limit: 2
        })
    );

    let e = filter_err(json!({"order": "name up"}));
    assert_eq!(
        e.to_string(),
        "invalid order `name up`: expected `property [ASC|DESC] [NULLS FIRST|NULLS LAST]`"
    );

    let e = where_err(json!({"name.first": "a"}));
    assert_eq!(
        e.to_string(),
        "invalid JSON path `name.first` on `name`: `name` is a text column; JSON paths need json \
         or jsonb"
    );
    assert_eq!(e.kind(), FilterErrorKind::InvalidPath);

    for bad in [
        json!({"wher": {}}),
        json!({"where": []}),
        json!({"where": {"and": 1}}),
        json!({"where": {"or": [1]}}),
        json!({"where": {"not": []}}),
        json!([]),
        json!("filter"),
    ] {
        let e = filter_err(bad.clone());
        assert_eq!(e.kind(), FilterErrorKind::Malformed, "{bad}");
    }
    assert_eq!(
        filter_err(json!({"wher": {}})).to_string(),
        "malformed filter: unknown filter key `wher` (expected one of where, fields, order, \
         limit, skip, offset, include)"
    );
    assert_eq!(FilterErrorKind::TooDeep.as_str(), "tooDeep");
    assert_eq!(FilterErrorKind::UnknownField.to_string(), "unknownField");
}

#[test]
fn long_strings_are_cut_in_messages() {
    let long = "x".repeat(1000);
    let e = where_err(json!({"age": long}));
    assert!(e.to_string().len() < 200, "{e}");
}

#[test]
fn messages_quote_a_short_prefix_of_megabyte_inputs() {
    let mib = 1 << 20;
    let long_key = "k".repeat(mib);
    let long_value = "v".repeat(mib);
    let long_path = format!("metadata.{}", "a.".repeat(mib / 2));
    let cases: Vec<(FilterError, FilterErrorKind, &str)> = vec![
        (
            where_err(object(&long_key, json!(1))),
            FilterErrorKind::UnknownField,
            "model `User` has no property `kkkk",
        ),
        (
            filter_err(json!({"fields": [long_key.clone()]})),
            FilterErrorKind::UnknownField,
            "has no property `kkkk",
        ),
        (
            filter_err(json!({"order": format!("{long_key} DESC")})),
            FilterErrorKind::UnknownField,
            "has no property `kkkk",
        ),
        (
            where_err(json!({"age": long_value.clone()})),
            FilterErrorKind::InvalidValue,
            "invalid value for `age`: expected an integer",
        ),
        (
            where_err(json!({"name": {"like": format!("{long_value}\\")}})),
            FilterErrorKind::InvalidValue,
            "invalid value for `name`",
        ),
        (
            where_err(json!({"age": object(&long_key, json!(1))})),
            FilterErrorKind::UnknownOperator,
            "unknown operator `kkkk",
        ),
        (
            filter_err(json!({"include": [long_key.clone()]})),
            FilterErrorKind::UnknownRelation,
            "model `User` has no relation `kkkk",
        ),
        (
            filter_err(json!({"order": format!("name {long_key}")})),
            FilterErrorKind::InvalidOrder,
            "invalid order `name kkkk",
        ),
        (
            where_err(object(&long_path, json!(1))),
            FilterErrorKind::InvalidPath,
            "invalid JSON path `metadata.a.a.",
        ),
        (
            where_err(object(&format!("metadata.{long_key}"), json!(1))),
            FilterErrorKind::InvalidPath,
            "segment `kkkk",
        ),
        (
            filter_err(object(&long_key, json!(1))),
            FilterErrorKind::Malformed,
            "unknown filter key `kkkk",
        ),
        (
            filter_err(json!({"include": [object(&long_key, json!(1))]})),
            FilterErrorKind::Malformed,
            "unknown include key `kkkk",
        ),
        (
            filter_err(json!({"order": [[long_value.clone()]]})),
            FilterErrorKind::InvalidOrder,
            "invalid order `an array of 1 elements`",
        ),
    ];
    for (e, kind, names) in cases {
        let message = e.to_string();
        assert_eq!(e.kind(), kind, "{message}");
        assert!(message.len() < 300, "{} bytes: {message}", message.len());
        assert!(
            message.contains(names),
            "`{message}` should contain `{names}`"
        );
    }
    // The cut says how long the whole input was.
    let message = where_err(object(&long_key, json!(1))).to_string();
    assert!(message.ends_with(&format!("…({mib} bytes)`")), "{message}");
    let message = where_err(json!({"age": long_value})).to_string();
    assert!(message.contains(&format!("…({mib} bytes)")), "{message}");
}

#[test]
fn excerpts_cut_on_a_character_boundary_and_keep_short_input_whole() {
    use std::borrow::Cow;
    assert!(matches!(excerpt("createdBy"), Cow::Borrowed("createdBy")));
    let eighty = "x".repeat(96);
    assert_eq!(excerpt(&eighty), eighty);
    // 63 ASCII bytes then two-byte characters: byte 64 falls inside one, so the cut is at 63.
    let mixed = format!("{}{}", "a".repeat(63), "é".repeat(100));
    assert_eq!(excerpt(&mixed), format!("{}…(263 bytes)", "a".repeat(63)));
    let emoji = "😀".repeat(1000);
    let cut = excerpt(&emoji);
    assert_eq!(cut, format!("{}…(4000 bytes)", "😀".repeat(16)));
    // A value quoted in a message is cut too, control characters escaped.
    let e = where_err(json!({"age": "\u{1}".repeat(10_000)}));
    assert!(e.to_string().len() < 300, "{e}");
}
