use tower_bearer::require_scope;

#[require_scope(either("a", "b"))]
async fn handler() -> &'static str {
    "x"
}

fn main() {}
