use ignis_repo::filter::typed::{Properties, TypedFilter};

#[derive(Properties)]
struct User {
    id: i32,
    email: String,
}

#[derive(Properties)]
struct Order {
    id: i32,
}

fn main() {
    // No such field; and a condition on another model's property.
    let _ = User::NICKNAME.eq("Ann");
    let _ = TypedFilter::<User>::new().r#where(Order::ID.eq(1));
}
