use ignis_schema::Model;

#[derive(Model)]
struct Author {
    id: i32,
}

#[derive(Model)]
struct Post {
    id: i32,
    #[ignis(relation, pg_type = "integer")]
    author: Option<Author>,
}

fn main() {}
