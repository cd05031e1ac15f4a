use ignis_repo::filter::typed::Properties;
use ignis_schema::{Model, PgEnum};

#[derive(PgEnum, Debug, Clone, Copy)]
enum Status {
    Open,
    Closed,
}

#[derive(PgEnum, Debug, Clone, Copy)]
enum Color {
    Red,
}

#[derive(Model, Properties)]
#[ignis(id = "number", tz)]
struct Ticket {
    status: Status,
}

fn main() {
    // A label as text, another enum, a pattern operator on an enum: none compiles.
    let _ = Ticket::STATUS.eq("open");
    let _ = Ticket::STATUS.in_([Color::Red]);
    let _ = Ticket::STATUS.like("o%");
    // The enrichers' constants carry their column's type.
    let _ = Ticket::CREATED_AT.gt(5);
    let _ = Ticket::ID.eq("1");
    // `createdAt` is NOT NULL: no null checks.
    let _ = Ticket::CREATED_AT.is_null();
}
