use tower_bearer::require_scope;

struct Api;

impl Api {
    #[require_scope("users:read")]
    async fn handler(&self) -> &'static str {
        "x"
    }
}

fn main() {}
