use ignis_schema::Model;

enum Mood {
    Sad,
}

#[derive(Model)]
struct Diary {
    id: i32,
    mood: Mood,
}

fn main() {}
