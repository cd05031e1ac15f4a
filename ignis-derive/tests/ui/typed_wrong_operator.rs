use ignis_repo::filter::typed::Properties;

#[derive(Properties)]
struct User {
    id: i32,
    email: String,
    active: bool,
    tags: Vec<String>,
}

fn main() {
    // Patterns are for text, order comparisons not for booleans, null checks only for
    // `Option` fields, `overlaps` only for arrays.
    let _ = User::ID.like("1%");
    let _ = User::ACTIVE.gt(false);
    let _ = User::EMAIL.is_null();
    let _ = User::EMAIL.overlaps(["a"]);
}
