use ignis_schema::Model;

#[derive(Model)]
struct Code {
    #[ignis(pg_type = "varchar(twenty)")]
    code: String,
    #[ignis(pg_type = "timestamp(9)")]
    at: String,
}

fn main() {}
