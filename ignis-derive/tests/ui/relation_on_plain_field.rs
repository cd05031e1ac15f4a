use ignis_repo::FromRow;

#[derive(FromRow)]
struct Author {
    name: String,
}

#[derive(FromRow)]
struct Post {
    #[ignis(relation)]
    author: Author,
}

fn main() {}
