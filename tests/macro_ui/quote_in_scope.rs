use tower_bearer::require_scope;

#[require_scope(any("ok", "no\"quotes"))]
async fn handler() -> &'static str {
    "x"
}

fn main() {}
