use ignis_schema::Model;

#[derive(Model)]
#[ignis(foreign_key(name = "FK_a", model = "User"))]
struct ForeignKeyWithoutProperties {
    a: i32,
}

#[derive(Model)]
#[ignis(foreign_key(name = "FK_ab", properties = "a, b", model = "User", references = "id"))]
struct ForeignKeyArity {
    a: i32,
    b: i32,
}

#[derive(Model)]
#[ignis(index(name = "IDX_a", properties = "a", key(property = "a")))]
struct IndexPropertiesAndKeys {
    a: String,
}

#[derive(Model)]
#[ignis(index(name = "IDX_a", key(opclass = "text_pattern_ops")))]
struct KeyWithoutColumn {
    a: String,
}

#[derive(Model)]
#[ignis(index(name = "IDX_a", key(property = "a", order = "sideways")))]
struct KeyOrder {
    a: String,
}

#[derive(Model)]
#[ignis(index(name = "IDX_a", properties = "a", with = "fillfactor"))]
struct StorageWithoutValue {
    a: String,
}

#[derive(Model)]
#[ignis(exclusion(name = "EX_a", method = "gist"))]
struct ExclusionWithoutElements {
    a: String,
}

#[derive(Model)]
#[ignis(exclusion(name = "EX_a", element(property = "a", operator = "= ; DROP TABLE x")))]
struct ExclusionOperator {
    a: String,
}

#[derive(Model)]
#[ignis(primary_key)]
struct PrimaryKeyWithoutOptions {
    a: String,
}

fn main() {}
