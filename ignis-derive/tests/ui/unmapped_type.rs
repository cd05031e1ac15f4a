use ignis_schema::Model;

#[derive(Model)]
struct Counter {
    id: i32,
    hits: u32,
    tags: Vec<std::collections::HashSet<String>>,
}

fn main() {}
