use ignis_schema::Model;

#[derive(Model)]
#[ignis(index = "IDX_Note_title")]
struct IndexWithoutParts {
    title: String,
}

#[derive(Model)]
#[ignis(unique(name = "UQ_Note_a_b"))]
struct UniqueWithoutProperties {
    a: String,
    b: String,
}

#[derive(Model)]
#[ignis(default_filter = r#"{"where": {"deletedAt": null}"#)]
struct FilterNotJson {
    title: String,
}

#[derive(Model)]
#[ignis(default_filter = r#"["where"]"#)]
struct FilterNotObject {
    title: String,
}

#[derive(Model)]
#[ignis(index(name = "IDX_Note_title", properties = "title", method = "gin; DROP TABLE x"))]
struct BadMethod {
    title: String,
}

#[derive(Model)]
#[ignis(check(name = "CK_Note_title", expr = " "))]
struct EmptyCheck {
    title: String,
}

#[derive(Model)]
#[ignis(tz(modified_column = "changed_at", no_modified))]
struct TzContradiction {
    title: String,
}

fn main() {}
