use axum::routing::get;
use axum::Router;
use tower_bearer::require_scope;

#[require_scope("users:read")]
async fn one() -> &'static str {
    "one"
}

#[require_scope(any("accounts:read", "accounts:write"))]
async fn either(claims: tower_bearer::TokenClaims) -> String {
    claims.issuer().to_owned()
}

#[require_scope(all("users:read", any("a", "b")))]
pub async fn nested() -> &'static str {
    "nested"
}

#[require_scope("accounts:write", acr_values("urn:example:mfa"), max_age = 300, hide_scopes)]
async fn transfer() -> &'static str {
    "moved"
}

fn main() {
    let _: Router = Router::new()
        .route("/one", get(one))
        .route("/either", get(either))
        .route("/nested", get(nested))
        .route("/transfer", get(transfer));
}
