use chrono::NaiveDate;
use serde_json::Value as JsonValue;

use super::*;
use serde_json::json;

struct User;
const NAME: Property<User, String> = Property::new("name");
const SCORE: Property<User, Option<f64>> = Property::new("score");
const TAGS: Property<User, Option<Vec<String>>> = Property::new("tags");
const META: Property<User, Option<JsonValue>> = Property::new("metadata");
const BORN: Property<User, chrono::NaiveDate> = Property::new("born");

#[test]
fn values_are_written_in_the_forms_coercion_reads() {
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
    assert_eq!(
        BORN.gte(day).to_json(),
        json!({"born": {"gte": "2024-02-29"}})
    );
    let at = day.and_hms_micro_opt(1, 2, 3, 4).unwrap_or_default();
    assert_eq!(at.to_filter_json(), json!("2024-02-29T01:02:03.000004"));
    assert_eq!(
        at.and_utc().to_filter_json(),
        json!("2024-02-29T01:02:03.000004Z")
    );
    assert_eq!(
        SCORE.lt(f64::NAN).to_json(),
        json!({"score": {"lt": "NaN"}}),
        "never null, which `eq` would read as IS NULL"
    );
    assert_eq!(SCORE.eq(1.5).to_json(), json!({"score": {"eq": 1.5}}));
    let name = String::from("ann");
    assert_eq!(
        NAME.in_([&name, &name]).to_json(),
        json!({"name": {"inq": ["ann", "ann"]}})
    );
}

#[test]
fn groups_flatten_and_negate() {
    let c = NAME.eq("a").or(NAME.eq("b")).or(NAME.eq("c"));
    assert_eq!(
        c.to_json(),
        json!({"or": [{"name": {"eq": "a"}}, {"name": {"eq": "b"}}, {"name": {"eq": "c"}}]})
    );
    let c = !(SCORE.is_null().and(TAGS.contains(["x"])));
    assert_eq!(
        c.to_json(),
        json!({"not": {"and": [{"score": {"eq": null}}, {"tags": {"contains": ["x"]}}]}})
    );
}

#[test]
fn json_paths_and_containment() {
    assert_eq!(
        META.path("items")
            .path("[0]")
            .path("sku")
            .eq("A-1")
            .to_json(),
        json!({"metadata.items[0].sku": {"eq": "A-1"}})
    );
    assert_eq!(
        META.contains(json!({"plan": "pro"})).to_json(),
        json!({"metadata": {"contains": {"plan": "pro"}}})
    );
    assert_eq!(
        META.path("score").desc().nulls_first().term(),
        "metadata.score DESC NULLS FIRST"
    );
}

#[test]
fn fields_except_is_the_object_form() {
    let f = TypedFilter::new().fields_except((NAME, SCORE));
    assert_eq!(
        f.to_json(),
        json!({"fields": {"name": false, "score": false}})
    );
    assert_eq!(TypedFilter::<User>::new().to_json(), json!({}));
}
