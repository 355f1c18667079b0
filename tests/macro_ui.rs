//! `#[require_scope]` misuse is a clear compile error (trybuild).

#[test]
fn macro_compile_errors() {
    let t = trybuild::TestCases::new();
    t.pass("tests/macro_ui/pass.rs");
    t.pass("tests/macro_ui/guard_of.rs");
    for case in [
        "not_async",
        "bad_scope",
        "quote_in_scope",
        "empty_list",
        "empty_any",
        "unknown_combinator",
        "method",
        "bad_acr",
        "empty_acr",
        "guard_of_unguarded",
    ] {
        t.compile_fail(format!("tests/macro_ui/{case}.rs"));
    }
}
