use tower_bearer::{guard_of, require_scope, ScopeGuard};

mod handlers {
    use tower_bearer::require_scope;

    #[require_scope(any("accounts:read", "accounts:write"))]
    pub async fn accounts() -> &'static str {
        "accounts"
    }
}

#[require_scope(all("users:read", "users.profile:read"), hide_scopes)]
async fn profile() -> &'static str {
    "profile"
}

fn main() {
    let guard: &'static ScopeGuard = guard_of!(profile);
    assert_eq!(
        guard.requirement().to_string(),
        "all(users:read, users.profile:read)"
    );
    assert_eq!(
        guard_of!(handlers::accounts).requirement().to_string(),
        "any(accounts:read, accounts:write)"
    );
    // The same guard the extractor checks, built once.
    assert!(std::ptr::eq(guard_of!(profile), guard));
    let _ = (profile, handlers::accounts);
}
