use ignis_repo::filter::typed::{Properties, TypedFilter};

#[derive(Properties)]
struct User {
    id: i32,
    email: String,
    age: Option<i32>,
    tags: Option<Vec<String>>,
}

fn main() {
    // A string where the property holds numbers, a number where it holds text.
    let _ = TypedFilter::new().r#where(User::AGE.gt("thirty"));
    let _ = User::EMAIL.eq(42);
    let _ = User::TAGS.contains([1, 2]);
}
