//! `include`: its forms, nested scopes validated against the target model, and its depth bound.

use super::*;

#[test]
fn include_forms_and_nested_scopes() {
    let f = filter(json!({"include": "posts"}));
    assert_eq!(
        f.include,
        vec![Inclusion {
            relation: "posts".into(),
            scope: None,
            should_skip_default_filter: false
        }]
    );
    let f = filter(json!({"include": [{
        "relation": "posts",
        "scope": {
            "where": {"title": {"like": "a%"}},
            "order": "title",
            "limit": 3,
            "include": [{"relation": "author", "scope": {"fields": ["name"]}}]
        },
        "shouldSkipDefaultFilter": true
    }]}));
    let inclusion = &f.include[0];
    assert!(inclusion.should_skip_default_filter);
    let scope = inclusion.scope.as_ref().unwrap();
    assert_eq!(scope.limit, Some(3));
    assert_eq!(&*scope.order[0].field.property, "title");
    let (sql, values, _) = select_sql(&post(), scope, &["authorId"]);
    assert_eq!(
        sql,
        r#"SELECT "id", "created_at", "modified_at", "deleted_at", "author_id", "title" FROM "blog"."Post" WHERE "title" LIKE $1 ORDER BY "title" ASC LIMIT 3"#
    );
    assert_eq!(values, vec![s("a%")]);
    let nested = &scope.include[0];
    assert_eq!(nested.relation, "author");
    assert_eq!(
        nested.scope.as_ref().and_then(|s| s.fields.clone()),
        Some(Fields::Include(vec!["name".into()]))
    );
    // Scope keys are validated against the target model.
    assert_eq!(
        filter_err(json!({"include": [{"relation": "posts", "scope": {"where": {"age": 1}}}]})),
        FilterError::UnknownField {
            model: "Post".into(),
            field: "age".into()
        }
    );
    assert_eq!(
        filter_err(json!({"include": ["comments"]})),
        FilterError::UnknownRelation {
            model: "User".into(),
            relation: "comments".into()
        }
    );
    for bad in [
        json!({"include": [{"scope": {}}]}),
        json!({"include": [{"relation": "posts", "where": {}}]}),
        json!({"include": [{"relation": 5}]}),
        json!({"include": [5]}),
        json!({"include": [{"relation": "posts", "scope": []}]}),
    ] {
        assert_eq!(
            filter_err(bad.clone()).kind(),
            FilterErrorKind::Malformed,
            "{bad}"
        );
    }
}

#[test]
fn include_depth_is_bounded() {
    // User.posts -> Post.author -> User.posts -> ...: `levels` nested includes.
    let chain = |levels: usize| {
        let mut inner = JsonValue::Null;
        for level in (0..levels).rev() {
            let relation = if level % 2 == 0 { "posts" } else { "author" };
            inner = if inner.is_null() {
                json!({"include": [relation]})
            } else {
                json!({"include": [{"relation": relation, "scope": inner}]})
            };
        }
        inner
    };
    assert!(Filter::parse(&user(), &schema(), &chain(4), &limits()).is_ok());
    assert_eq!(
        Filter::parse(&user(), &schema(), &chain(5), &limits()),
        Err(FilterError::TooDeep { limit: 4 })
    );
}
