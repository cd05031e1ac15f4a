use ignis_schema::Model;

#[derive(Model)]
struct IdentityKind {
    #[ignis(identity = "sometimes")]
    id: i64,
}

#[derive(Model)]
struct IdentityZeroIncrement {
    #[ignis(identity(by_default, increment = 0))]
    id: i64,
}

#[derive(Model)]
struct IdentityAndSerial {
    #[ignis(pg_type = "serial", identity, sequence(start = 5))]
    id: i32,
}

#[derive(Model)]
struct IdentityWithDefault {
    #[ignis(identity, default = "1")]
    id: i64,
}

#[derive(Model)]
struct SequenceWithoutOptions {
    #[ignis(pg_type = "serial", sequence)]
    id: i32,
}

#[derive(Model)]
struct SequenceTooLarge {
    #[ignis(pg_type = "bigserial", sequence(max_value = 99999999999999999999))]
    id: i64,
}

#[derive(Model)]
struct StatisticsOutOfRange {
    #[ignis(statistics = 20000)]
    code: String,
}

#[derive(Model)]
struct UnknownAction {
    #[ignis(foreign_key(model = "User", on_delete = "explode"))]
    user_id: i32,
}

#[derive(Model)]
struct ModelAndTable {
    #[ignis(foreign_key(model = "User", table = "users"))]
    user_id: i32,
}

#[derive(Model)]
struct FieldForeignKeyWithProperties {
    #[ignis(foreign_key(model = "User", properties = "a, b"))]
    user_id: i32,
}

fn main() {}
