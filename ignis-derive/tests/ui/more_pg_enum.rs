use ignis_schema::PgEnum;

#[derive(PgEnum)]
enum WithData {
    Plain,
    Carries(i32),
}

#[derive(PgEnum)]
enum SameLabel {
    Open,
    #[ignis(rename = "open")]
    Opened,
}

#[derive(PgEnum)]
#[ignis(name = "Mood")]
enum BadTypeName {
    Sad,
}

#[derive(PgEnum)]
#[ignis(rename_all = "Title Case")]
enum BadRule {
    Sad,
}

#[derive(PgEnum)]
enum Empty {}

fn main() {}
