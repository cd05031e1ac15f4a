use ignis_repo::FromRow;

#[derive(FromRow)]
struct Tag {
    #[ignis(property = "a", property = "b")]
    label: String,
    #[ignis(skip, hidden)]
    cache: Option<String>,
}

fn main() {}
