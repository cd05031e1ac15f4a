//! The condition builders the repository uses for keys: `any_of` and `field_eq`.

use super::*;

#[test]
fn any_of_binds_one_array_of_the_column_type() {
    let p = post();
    let c = any_of(&p, "authorId", &[json!("a"), JsonValue::Null, json!("b")]).unwrap();
    assert_eq!(
        where_on(&p, JsonValue::Null).0,
        "TRUE",
        "an empty where renders TRUE"
    );
    let (sql, values) = condition_sql(&p, &c);
    assert_eq!(sql, r#""author_id" = ANY($1)"#);
    assert_eq!(values, vec![strings(&["a", "b"])]);
    // Integer keys given as JSON strings or numbers bind as int4.
    let c = any_of(&p, "id", &[json!(1), json!("2")]).unwrap();
    assert!(
        matches!(c, Condition::Compare(ref cmp) if cmp.operand == Operand::List(BoundValue::plain(ints(&[1, 2]))))
    );
    assert_eq!(any_of(&p, "id", &[]), Ok(Condition::Const(false)));
    assert_eq!(
        any_of(&p, "id", &[json!("x")]).map_err(|e| e.kind()),
        Err(FilterErrorKind::InvalidValue)
    );
    assert_eq!(
        any_of(&p, "nope", &[json!(1)]).map_err(|e| e.kind()),
        Err(FilterErrorKind::UnknownField)
    );
    let eq = field_eq(&p, "id", &json!(7))
        .unwrap()
        .and(field_eq(&p, "title", &JsonValue::Null).unwrap());
    let (sql, values) = condition_sql(&p, &eq);
    assert_eq!(sql, r#"("id" = $1) AND ("title" IS NULL)"#);
    assert_eq!(values, vec![SqlValue::Int(Some(7))]);
}

#[test]
fn statements_are_stable_across_list_lengths() {
    let a = where_sql(json!({"age": {"in": [1]}})).0;
    let b = where_sql(json!({"age": {"in": [1, 2, 3, 4, 5]}})).0;
    assert_eq!(a, b);
}
