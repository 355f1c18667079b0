//! OpenAPI security from the guards (feature `utoipa`): the expansion of requirements into
//! `security` lists, the schemes, the JSON a document gets, and the token endpoint found by
//! discovery. The reference server's document is checked against its behaviour (and a real
//! OpenAPI 3.1 validator) in `tests/openapi_server.rs`.

use axum::routing::get;
use axum::Router;
use http::Method;
use proptest::prelude::*;
use serde_json::{json, Value};
use tower_bearer::openapi::{OpenApiError, OpenApiSecurity, SecuritySchemes};
use tower_bearer::remote::RemoteOptions;
use tower_bearer::{guard_of, require_scope};
use tower_bearer::{RequireScopeLayer, ScopeGuard, ScopeRequirement, Scopes, Validator};
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::{Info, OpenApi, Paths, ResponseBuilder};

/// A document with these operations, no security yet.
fn doc(ops: &[(HttpMethod, &str)]) -> OpenApi {
    let mut paths = Paths::new();
    for (method, path) in ops {
        let op = OperationBuilder::new().response("200", ResponseBuilder::new().description("OK"));
        paths.add_path_operation(*path, vec![method.clone()], op);
    }
    OpenApi::new(Info::new("test", "1.0"), paths)
}

fn schemes() -> SecuritySchemes {
    SecuritySchemes::new()
        .client_credentials("https://auth.example.com/token")
        .bearer_jwt()
}

/// The JSON of `security` for GET `path` after applying `security` to a one-route document.
fn security_of(requirement: ScopeRequirement) -> Value {
    let mut d = doc(&[(HttpMethod::Get, "/r")]);
    OpenApiSecurity::new(schemes())
        .route(Method::GET, "/r", &requirement)
        .apply(&mut d)
        .unwrap();
    serde_json::to_value(&d).unwrap()["paths"]["/r"]["get"]["security"].clone()
}

#[test]
fn all_is_one_requirement_object_listing_both_scopes() {
    assert_eq!(
        security_of(ScopeRequirement::all(["users:read", "users.profile:read"])),
        json!([
            {"oauth2": ["users:read", "users.profile:read"]},
            {"bearer": ["users:read", "users.profile:read"]},
        ])
    );
}

#[test]
fn any_is_one_requirement_object_per_alternative() {
    assert_eq!(
        security_of(ScopeRequirement::any(["accounts:read", "accounts:write"])),
        json!([
            {"oauth2": ["accounts:read"]}, {"oauth2": ["accounts:write"]},
            {"bearer": ["accounts:read"]}, {"bearer": ["accounts:write"]},
        ])
    );
}

#[test]
fn nested_requirements_are_expanded() {
    let need = ScopeRequirement::all([
        ScopeRequirement::scope("a"),
        ScopeRequirement::any([
            ScopeRequirement::scope("b"),
            ScopeRequirement::all(["c", "d"]),
        ]),
    ]);
    let security = security_of(need);
    assert_eq!(
        security,
        json!([
            {"oauth2": ["a", "b"]}, {"oauth2": ["a", "c", "d"]},
            {"bearer": ["a", "b"]}, {"bearer": ["a", "c", "d"]},
        ])
    );
    // An alternative that contains another one says nothing more.
    let absorbed = ScopeRequirement::any([
        ScopeRequirement::all(["a", "b"]),
        ScopeRequirement::scope("a"),
    ]);
    assert_eq!(
        security_of(absorbed),
        json!([{"oauth2": ["a"]}, {"bearer": ["a"]}])
    );
}

fn exploding() -> ScopeRequirement {
    // 2^7 = 128 alternatives.
    ScopeRequirement::all((0..7).map(|i| ScopeRequirement::any([format!("x{i}"), format!("y{i}")])))
}

#[test]
fn past_the_cap_a_requirement_is_refused_with_a_clear_message() {
    let err = OpenApiSecurity::new(schemes())
        .try_route(Method::GET, "/r", exploding())
        .unwrap_err();
    assert!(matches!(err, OpenApiError::TooManyAlternatives(_)));
    let msg = err.to_string();
    assert!(msg.contains("more than 64 alternatives"), "{msg}");
    assert!(msg.contains("all(any(x0, y0), any(x1, y1)"), "{msg}");
    let panic = std::panic::catch_unwind(|| {
        OpenApiSecurity::new(schemes()).route(Method::GET, "/r", exploding())
    })
    .unwrap_err();
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(text.contains("more than 64 alternatives"), "{text}");
    // 2^6 = 64 is still fine.
    let fits = ScopeRequirement::all(
        (0..6).map(|i| ScopeRequirement::any([format!("x{i}"), format!("y{i}")])),
    );
    assert_eq!(security_of(fits).as_array().unwrap().len(), 2 * 64);
}

#[test]
fn public_is_an_empty_list_authenticated_an_object_without_scopes() {
    let mut d = doc(&[(HttpMethod::Get, "/health"), (HttpMethod::Get, "/me")]);
    let security = OpenApiSecurity::new(schemes())
        .public(Method::GET, "/health")
        .authenticated(Method::GET, "/me");
    // As a utoipa `Modify` (what `#[openapi(modifiers(..))]` calls).
    utoipa::Modify::modify(&security, &mut d);
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["paths"]["/health"]["get"]["security"], json!([]));
    assert_eq!(
        v["paths"]["/me"]["get"]["security"],
        json!([{"oauth2": []}, {"bearer": []}])
    );
}

#[test]
fn schemes_carry_flows_urls_and_the_union_of_the_guards_scopes() {
    let mut d = doc(&[
        (HttpMethod::Get, "/users"),
        (HttpMethod::Post, "/users"),
        (HttpMethod::Get, "/accounts"),
    ]);
    OpenApiSecurity::new(
        SecuritySchemes::new()
            .client_credentials("https://auth.example.com/token")
            .authorization_code(
                "https://auth.example.com/authorize",
                "https://auth.example.com/token",
            )
            .bearer_jwt()
            .scope_description("users:read", "Read users")
            .scope_description("admin", "Everything"),
    )
    .route(
        Method::GET,
        "/users",
        RequireScopeLayer::all(["users:read"]),
    )
    .route(
        Method::POST,
        "/users",
        ScopeGuard::new(ScopeRequirement::all(["users:write"])),
    )
    .route(
        Method::GET,
        "/accounts",
        ScopeRequirement::any(["accounts:read", "accounts:write"]),
    )
    .apply(&mut d)
    .unwrap();
    let v = serde_json::to_value(&d).unwrap();
    let scopes = json!({
        "accounts:read": "accounts:read",
        "accounts:write": "accounts:write",
        "admin": "Everything",
        "users:read": "Read users",
        "users:write": "users:write",
    });
    assert_eq!(
        v["components"]["securitySchemes"],
        json!({
            "oauth2": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "https://auth.example.com/token",
                        "scopes": scopes,
                    },
                    "authorizationCode": {
                        "authorizationUrl": "https://auth.example.com/authorize",
                        "tokenUrl": "https://auth.example.com/token",
                        "scopes": scopes,
                    },
                },
            },
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        })
    );
    assert_eq!(v["openapi"], "3.1.0");
}

#[test]
fn one_scheme_alone_and_custom_names() {
    let apply = |schemes: SecuritySchemes| {
        let mut d = doc(&[(HttpMethod::Get, "/r")]);
        OpenApiSecurity::new(schemes)
            .route(Method::GET, "/r", ScopeRequirement::all(["a"]))
            .apply(&mut d)
            .map(|()| serde_json::to_value(&d).unwrap())
    };
    let v = apply(SecuritySchemes::new().bearer_jwt().bearer_name("jwt")).unwrap();
    assert_eq!(v["paths"]["/r"]["get"]["security"], json!([{"jwt": ["a"]}]));
    assert_eq!(
        v["components"]["securitySchemes"],
        json!({"jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}})
    );
    let v = apply(SecuritySchemes::new().client_credentials("https://as/token")).unwrap();
    assert_eq!(
        v["paths"]["/r"]["get"]["security"],
        json!([{"oauth2": ["a"]}])
    );
    assert!(v["components"]["securitySchemes"]["bearer"].is_null());

    let err = apply(SecuritySchemes::new()).unwrap_err();
    assert!(matches!(err, OpenApiError::NoScheme), "{err}");
    let err = apply(
        SecuritySchemes::new()
            .client_credentials("https://as/token")
            .bearer_jwt()
            .bearer_name("oauth2"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("both named \"oauth2\""), "{err}");
}

#[test]
fn a_document_that_differs_from_the_declarations_is_refused_untouched() {
    let mut d = doc(&[(HttpMethod::Get, "/users"), (HttpMethod::Delete, "/users")]);
    let before = serde_json::to_value(&d).unwrap();
    let security = OpenApiSecurity::new(schemes())
        .route(Method::GET, "/users", ScopeRequirement::all(["users:read"]))
        .public(Method::GET, "/health");
    let err = security.apply(&mut d).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("declared but not in the document: GET /health"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "in the document but not declared (declare them, as public if they are): DELETE /users"
        ),
        "{msg}"
    );
    assert_eq!(serde_json::to_value(&d).unwrap(), before);
    // As a utoipa `Modify`, the same mismatch is a panic at start-up.
    let panic = std::panic::catch_unwind(move || utoipa::Modify::modify(&security, &mut d));
    assert!(panic.is_err());
}

#[test]
fn an_operation_is_declared_once() {
    let err = OpenApiSecurity::new(schemes())
        .public(Method::GET, "/a")
        .try_route(Method::GET, "/a", ScopeRequirement::all(["x"]))
        .unwrap_err();
    assert_eq!(err.to_string(), "GET /a is declared twice");
}

#[test]
fn existing_schemes_and_security_are_replaced_others_kept() {
    let mut d = doc(&[(HttpMethod::Get, "/r")]);
    let mut v = serde_json::to_value(&d).unwrap();
    v["paths"]["/r"]["get"]["security"] = json!([{"oauth2": ["stale"]}]);
    v["components"] = json!({"securitySchemes": {
        "oauth2": {"type": "http", "scheme": "basic"},
        "apiKey": {"type": "apiKey", "name": "k", "in": "header"},
    }});
    d = serde_json::from_value(v).unwrap();
    OpenApiSecurity::new(schemes())
        .route(Method::GET, "/r", ScopeRequirement::all(["fresh"]))
        .apply(&mut d)
        .unwrap();
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(
        v["paths"]["/r"]["get"]["security"],
        json!([{"oauth2": ["fresh"]}, {"bearer": ["fresh"]}])
    );
    assert_eq!(
        v["components"]["securitySchemes"]["oauth2"]["type"],
        "oauth2"
    );
    assert_eq!(
        v["components"]["securitySchemes"]["apiKey"]["type"],
        "apiKey"
    );
}

// ---- `#[require_scope]` handlers and utoipa's own macros ----

/// List users.
#[utoipa::path(get, path = "/users", responses((status = 200, description = "Users")))]
#[require_scope("users:read")]
async fn list_users() -> &'static str {
    "alice, bob"
}

/// Accounts.
#[utoipa::path(get, path = "/accounts", responses((status = 200, description = "Accounts")))]
#[require_scope(any("accounts:read", "accounts:write"))]
async fn accounts() -> &'static str {
    "accounts"
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_users, accounts))]
struct ApiDoc;

#[test]
fn require_scope_handlers_are_documented_from_their_own_attribute() {
    use utoipa::OpenApi as _;

    let _router: Router = Router::new()
        .route("/users", get(list_users))
        .route("/accounts", get(accounts));
    let security = OpenApiSecurity::new(schemes())
        .route(Method::GET, "/users", guard_of!(list_users))
        .route(Method::GET, "/accounts", guard_of!(accounts));
    let mut d = ApiDoc::openapi();
    security.apply(&mut d).unwrap();
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(
        v["paths"]["/users"]["get"]["security"],
        json!([{"oauth2": ["users:read"]}, {"bearer": ["users:read"]}])
    );
    assert_eq!(
        v["paths"]["/accounts"]["get"]["security"][1],
        json!({"oauth2": ["accounts:write"]})
    );
    assert_eq!(
        security.scopes(),
        ["users:read", "accounts:read", "accounts:write"]
    );
}

// ---- the expansion means what the guard enforces ----

fn requirement() -> impl Strategy<Value = ScopeRequirement> {
    let leaf =
        prop::sample::select(vec!["a", "b", "c", "d", "e"]).prop_map(ScopeRequirement::scope);
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(ScopeRequirement::all),
            prop::collection::vec(inner, 1..4).prop_map(ScopeRequirement::any),
        ]
    })
}

proptest! {
    /// A set of scopes meets the requirement exactly when it contains one alternative; the
    /// alternatives are minimal (none contains another).
    #[test]
    fn alternatives_accept_exactly_what_the_guard_accepts(
        need in requirement(),
        granted in prop::collection::btree_set(prop::sample::select(vec!["a", "b", "c", "d", "e"]), 0..6),
    ) {
        let alternatives = need.alternatives().unwrap();
        let scopes = Scopes::new(granted.iter().copied());
        let documented = alternatives
            .iter()
            .any(|alt| alt.iter().all(|s| granted.contains(s.as_str())));
        prop_assert_eq!(scopes.satisfies(&need), documented, "{} {:?}", need, granted);
        for (i, x) in alternatives.iter().enumerate() {
            for (j, y) in alternatives.iter().enumerate() {
                prop_assert!(i == j || !y.iter().all(|s| x.contains(s)), "{:?} contains {:?}", x, y);
            }
        }
    }
}

// ---- the token endpoint from discovery ----

#[tokio::test]
async fn discovered_endpoints_feed_the_oauth2_flows() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let iss = format!("http://{addr}");
    let issuer = tower_bearer::testing::TestIssuer::new().issuer(iss.clone());
    let doc_json = json!({
        "issuer": iss,
        "jwks_uri": format!("http://{addr}/keys"),
        "token_endpoint": format!("http://{addr}/oauth/token"),
        "authorization_endpoint": format!("http://{addr}/oauth/authorize"),
    })
    .to_string();
    let jwks = issuer.jwks();
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { doc_json.clone() }),
        )
        .route("/keys", get(move || async move { jwks.clone() }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let v = Validator::builder()
        .issuer(iss.clone())
        .audience(issuer.audience_id())
        .discover()
        .remote_options(RemoteOptions::new().allow_http(true))
        .build()
        .unwrap();
    assert!(v.discovered_endpoints().is_none(), "nothing read yet");
    v.warm_up().await.unwrap();
    let endpoints = v.discovered_endpoints().unwrap();
    assert_eq!(
        endpoints.token_endpoint(),
        Some(format!("{iss}/oauth/token").as_str())
    );
    let mut d = doc(&[(HttpMethod::Get, "/r")]);
    OpenApiSecurity::new(SecuritySchemes::new().discovered(&endpoints))
        .authenticated(Method::GET, "/r")
        .apply(&mut d)
        .unwrap();
    let flows = serde_json::to_value(&d).unwrap()["components"]["securitySchemes"]["oauth2"]
        ["flows"]
        .clone();
    assert_eq!(
        flows["clientCredentials"]["tokenUrl"],
        format!("{iss}/oauth/token")
    );
    assert_eq!(
        flows["authorizationCode"]["authorizationUrl"],
        format!("{iss}/oauth/authorize")
    );

    // Static keys: nothing discovered.
    assert!(issuer.validator().discovered_endpoints().is_none());
}

#[tokio::test]
async fn endpoints_the_client_would_not_call_are_dropped() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let iss = format!("http://{addr}");
    let issuer = tower_bearer::testing::TestIssuer::new().issuer(iss.clone());
    let doc_json = json!({
        "issuer": iss,
        "jwks_uri": format!("http://{addr}/keys"),
        "token_endpoint": "javascript:alert(1)",
        "authorization_endpoint": 42,
    })
    .to_string();
    let jwks = issuer.jwks();
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { doc_json.clone() }),
        )
        .route("/keys", get(move || async move { jwks.clone() }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let v = Validator::builder()
        .issuer(iss)
        .audience(issuer.audience_id())
        .discover()
        .remote_options(RemoteOptions::new().allow_http(true))
        .build()
        .unwrap();
    // Keys still load: the endpoints are for documentation only.
    v.warm_up().await.unwrap();
    assert!(v.validate(&issuer.token().sign()).is_ok());
    let endpoints = v.discovered_endpoints().unwrap();
    assert_eq!(endpoints.token_endpoint(), None);
    assert_eq!(endpoints.authorization_endpoint(), None);
    let schemes = SecuritySchemes::new().discovered(&endpoints);
    let mut d = doc(&[(HttpMethod::Get, "/r")]);
    let err = OpenApiSecurity::new(schemes)
        .authenticated(Method::GET, "/r")
        .apply(&mut d)
        .unwrap_err();
    assert!(matches!(err, OpenApiError::NoScheme));
}
