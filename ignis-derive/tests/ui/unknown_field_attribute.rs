use ignis_schema::Model;

#[derive(Model)]
struct Tag {
    #[ignis(colum = "tag_label")]
    label: String,
}

fn main() {}
