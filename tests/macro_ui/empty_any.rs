use tower_bearer::require_scope;

#[require_scope(any())]
async fn handler() -> &'static str {
    "x"
}

fn main() {}
