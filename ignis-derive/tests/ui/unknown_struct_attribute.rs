use ignis_repo::FromRow;

#[derive(FromRow)]
#[ignis(tabel = "tags")]
struct Tag {
    label: String,
}

fn main() {}
