use tower_bearer::require_scope;

#[require_scope()]
async fn handler() -> &'static str {
    "x"
}

fn main() {}
