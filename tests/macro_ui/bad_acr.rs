use tower_bearer::require_scope;

#[require_scope("accounts:write", acr_values("urn:example:mfa", "two words"))]
async fn handler() -> &'static str {
    "x"
}

fn main() {}
