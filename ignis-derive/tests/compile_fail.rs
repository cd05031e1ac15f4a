//! Misused `#[ignis(..)]` attributes are compile errors that point at what is wrong and say why
//! (the expected messages are the `.stderr` files beside each case in `tests/ui/`).

#[test]
fn misused_attributes_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
