use tower_bearer::require_scope;

#[require_scope("users:read")]
fn handler() -> &'static str {
    "x"
}

fn main() {}
