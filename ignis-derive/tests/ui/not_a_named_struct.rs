use ignis_schema::Model;

#[derive(Model)]
struct Pair(i32, String);

fn main() {}
