//! Scopes end to end: every claim format, all/any/nested requirements, hierarchy on and off,
//! and the three ways to guard a route (layer, extractor, macro) answering byte for byte alike.

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::json;
use tower::ServiceExt;
use tower_bearer::extract::{Authorized, Claims};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{
    require_scope, scope_marker, BearerLayer, BearerToken, RequireScopeLayer, Scope, ScopeClaims,
    ScopeHierarchy, ScopeRequirement, Scopes, TokenClaims, Validator,
};

const USERS_READ: Scope = Scope::from_static("users:read");

async fn send(
    app: &Router,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let mut headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn granted(validator: &Validator, token: &str) -> Vec<String> {
    let auth = validator.validate(token).unwrap();
    auth.scopes().iter().map(str::to_owned).collect()
}

// ---- formats ----

#[test]
fn scope_string_and_array_and_scp_are_all_read() {
    let i = TestIssuer::new();
    let v = i.validator();
    assert_eq!(
        granted(&v, &i.token().claim("scope", "b a  b").sign()),
        ["a", "b"]
    );
    assert_eq!(
        granted(&v, &i.token().claim("scope", ["x", "y"]).sign()),
        ["x", "y"]
    );
    assert_eq!(granted(&v, &i.token().claim("scp", ["p"]).sign()), ["p"]);
    assert_eq!(
        granted(&v, &i.token().claim("scp", "q r").sign()),
        ["q", "r"]
    );
    assert_eq!(
        granted(
            &v,
            &i.token().claim("scope", "a").claim("scp", ["b"]).sign()
        ),
        ["a", "b"]
    );
}

#[test]
fn nested_claim_paths() {
    let i = TestIssuer::new();
    let keycloak = i
        .validator_builder()
        .scope_claims(ScopeClaims::paths([
            "realm_access.roles",
            "resource_access.api.roles",
        ]))
        .build()
        .unwrap();
    let t = i
        .token()
        .claim("realm_access", json!({"roles": ["admin", "user"]}))
        .claim(
            "resource_access",
            json!({"api": {"roles": ["api:write"]}, "other": {"roles": ["x"]}}),
        )
        .claim("scope", "ignored")
        .sign();
    assert_eq!(granted(&keycloak, &t), ["admin", "api:write", "user"]);
}

#[test]
fn configurable_delimiter_for_cafe24() {
    let i = TestIssuer::new();
    let v = i
        .validator_builder()
        .scope_claims(ScopeClaims::standard().delimiter(','))
        .build()
        .unwrap();
    let t = i
        .token()
        .claim("scope", "mall.read_application,mall.write_application")
        .sign();
    assert_eq!(
        granted(&v, &t),
        ["mall.read_application", "mall.write_application"]
    );
}

#[test]
fn user_supplied_mapping() {
    let i = TestIssuer::new();
    let v = i
        .validator_builder()
        .scope_claims(ScopeClaims::custom(|c| {
            c.get::<Vec<String>>("permissions")
                .ok()
                .flatten()
                .unwrap_or_default()
        }))
        .build()
        .unwrap();
    let t = i.token().claim("permissions", ["read:all"]).sign();
    assert_eq!(granted(&v, &t), ["read:all"]);
}

#[test]
fn invalid_values_are_dropped_never_matched() {
    let i = TestIssuer::new();
    let v = i.validator();
    let t = i
        .token()
        .claim(
            "scp",
            ["ok", "has space", "quote\"", "back\\slash", "é", ""],
        )
        .sign();
    assert_eq!(granted(&v, &t), ["ok"]);
}

// ---- requirements and hierarchy ----

#[test]
fn all_any_and_nesting() {
    let s = Scopes::new(["a", "c"]);
    assert!(s.satisfies(&ScopeRequirement::all(["a", "c"])));
    assert!(!s.satisfies(&ScopeRequirement::all(["a", "b"])));
    assert!(s.satisfies(&ScopeRequirement::any(["b", "c"])));
    assert!(!s.satisfies(&ScopeRequirement::any(["b", "d"])));
    let nested = ScopeRequirement::all([
        ScopeRequirement::from(Scope::from_static("a")),
        ScopeRequirement::any(["b", "c"]),
    ]);
    assert!(s.satisfies(&nested));
    assert!(!Scopes::new(["a"]).satisfies(&nested));
    assert!(Scopes::new(["users:read"]).satisfies(&ScopeRequirement::from(USERS_READ)));
}

#[test]
fn hierarchy_on_and_off() {
    let i = TestIssuer::new();
    let token = i.token().scopes(["users:admin", "billing:*"]).sign();
    let plain = i.validator();
    let with = i
        .validator_builder()
        .scope_hierarchy(
            ScopeHierarchy::new()
                .implies("users:admin", ["users:write"])
                .implies("users:write", ["users:read"])
                .wildcards(),
        )
        .build()
        .unwrap();
    let need = ScopeRequirement::all(["users:read", "billing:view"]);
    assert!(!plain.validate(&token).unwrap().scopes().satisfies(&need));
    assert!(with.validate(&token).unwrap().scopes().satisfies(&need));
    let root = i
        .validator_builder()
        .scope_hierarchy(ScopeHierarchy::new().superuser("root"))
        .build()
        .unwrap();
    let t = i.token().scopes(["root"]).sign();
    assert!(root
        .validate(&t)
        .unwrap()
        .scopes()
        .grants("anything:at-all"));
}

#[test]
fn try_forms_report_bad_scopes() {
    assert!(RequireScopeLayer::try_all(["ok", "not ok"]).is_err());
    assert!(RequireScopeLayer::try_any(Vec::<&str>::new()).is_err());
    assert!(ScopeRequirement::try_scope("fine").is_ok());
}

#[test]
#[should_panic(expected = "invalid scope \"users read\"")]
fn bad_scope_in_a_layer_panics_at_startup_naming_it() {
    let _ = RequireScopeLayer::all(["users read"]);
}

// ---- three ways, one answer ----

scope_marker!(ProfileMarker => ScopeRequirement::all(["users:read", "users.profile:read"]));

#[require_scope(all("users:read", "users.profile:read"))]
async fn by_macro() -> &'static str {
    "profile"
}

async fn by_extractor(_: Authorized<ProfileMarker>) -> &'static str {
    "profile"
}

fn three_ways(layer: Option<BearerLayer>) -> Router {
    let router = Router::new()
        .route(
            "/layer",
            get(|| async { "profile" })
                .route_layer(RequireScopeLayer::all(["users:read", "users.profile:read"])),
        )
        .route("/extractor", get(by_extractor))
        .route("/macro", get(by_macro));
    match layer {
        Some(l) => router.layer(l),
        None => router,
    }
}

async fn assert_identical(app: &Router, token: Option<&str>, status: StatusCode) -> String {
    let a = send(app, "/layer", token).await;
    let b = send(app, "/extractor", token).await;
    let c = send(app, "/macro", token).await;
    assert_eq!(a.0, status);
    assert_eq!(a, b, "layer vs extractor");
    assert_eq!(a, c, "layer vs macro");
    String::from_utf8(a.2).unwrap()
}

#[tokio::test]
async fn three_ways_answer_byte_for_byte_alike() {
    let i = TestIssuer::new();
    let app = three_ways(Some(i.layer().realm("api")));
    let ok = i
        .token()
        .scopes(["users:read", "users.profile:read"])
        .sign();
    assert_eq!(
        assert_identical(&app, Some(&ok), StatusCode::OK).await,
        "profile"
    );

    let partial = i.token().scopes(["users:read"]).sign();
    let body = assert_identical(&app, Some(&partial), StatusCode::FORBIDDEN).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"error": "insufficient_scope", "error_description": "insufficient scope",
               "scope": "users:read users.profile:read"})
    );
    let (_, headers, _) = send(&app, "/macro", Some(&partial)).await;
    assert!(headers.contains(&(
        "www-authenticate".into(),
        r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="users:read users.profile:read""#.into()
    )));
}

#[tokio::test]
async fn three_ways_unauthenticated_in_optional_mode_is_401_with_scope() {
    let i = TestIssuer::new();
    let app = three_ways(Some(BearerLayer::optional(i.validator())));
    assert_identical(&app, None, StatusCode::UNAUTHORIZED).await;
    let (_, headers, _) = send(&app, "/extractor", None).await;
    assert!(headers.contains(&(
        "www-authenticate".into(),
        r#"Bearer scope="users:read users.profile:read""#.into()
    )));
}

#[tokio::test]
async fn three_ways_without_the_layer_are_500() {
    let app = three_ways(None);
    let body = assert_identical(&app, None, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert!(body.contains("BearerLayer"), "{body}");
}

#[tokio::test]
async fn hidden_scopes_stay_out_of_the_answer() {
    let i = TestIssuer::new();
    let app: Router = Router::new()
        .route(
            "/x",
            get(|| async { "x" })
                .route_layer(RequireScopeLayer::all(["secret:scope"]).hide_scopes()),
        )
        .layer(i.layer());
    let (status, headers, body) = send(&app, "/x", Some(&i.token().sign())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let challenge = &headers
        .iter()
        .find(|(k, _)| k == "www-authenticate")
        .unwrap()
        .1;
    assert!(!challenge.contains("secret:scope") && !challenge.contains("scope="));
    assert!(!String::from_utf8(body).unwrap().contains("secret:scope"));
}

// ---- extractors ----

#[derive(serde::Deserialize)]
struct MyClaims {
    sub: String,
    tenant: String,
}

#[tokio::test]
async fn extractors_and_their_option_forms() {
    let i = TestIssuer::new();
    let app: Router = Router::new()
        .route(
            "/mine",
            get(|Claims(c): Claims<MyClaims>| async move { format!("{}@{}", c.sub, c.tenant) }),
        )
        .route(
            "/default",
            get(|Claims(c): Claims, s: Scopes, t: BearerToken| async move {
                format!("{} {} {}", c.issuer(), s.len(), t.as_str().len() > 10)
            }),
        )
        .route(
            "/optional",
            get(
                |c: Option<TokenClaims>, s: Option<Scopes>, t: Option<BearerToken>| async move {
                    format!("{} {} {}", c.is_some(), s.is_some(), t.is_some())
                },
            ),
        )
        .layer(BearerLayer::optional(i.validator()));
    let t = i
        .token()
        .subject("ann")
        .claim("tenant", "acme")
        .scopes(["a"])
        .sign();
    assert_eq!(send(&app, "/mine", Some(&t)).await.2, b"ann@acme");
    assert_eq!(
        send(&app, "/default", Some(&t)).await.2,
        b"https://issuer.test 1 true"
    );
    assert_eq!(send(&app, "/optional", Some(&t)).await.2, b"true true true");
    assert_eq!(send(&app, "/optional", None).await.2, b"false false false");
    // The non-Option forms refuse an anonymous request with 401.
    assert_eq!(
        send(&app, "/default", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Claims that do not fit the route's type: 401 invalid_token.
    let (status, _, body) = send(&app, "/mine", Some(&i.token().sign())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(String::from_utf8(body).unwrap().contains("invalid_token"));
}

// ---- properties ----

fn scope_token() -> impl Strategy<Value = String> {
    "[!#-\\[\\]-~]{1,12}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn parsing_keeps_only_valid_tokens_and_ignores_order(
        items in prop::collection::vec(any::<String>(), 0..8)
    ) {
        let forward = Scopes::new(&items);
        let mut reversed = items.clone();
        reversed.reverse();
        prop_assert_eq!(&forward, &Scopes::new(&reversed));
        for s in forward.iter() {
            prop_assert!(tower_bearer::scope::is_valid_scope(s));
            prop_assert!(items.iter().any(|i| i == s));
        }
    }

    #[test]
    fn contains_is_exact_and_case_sensitive(items in prop::collection::vec(scope_token(), 1..20), probe in scope_token()) {
        let s = Scopes::new(&items);
        prop_assert_eq!(s.contains(&probe), items.contains(&probe));
        let upper = probe.to_uppercase();
        if upper != probe {
            prop_assert_eq!(s.contains(&upper), items.contains(&upper));
        }
    }

    #[test]
    fn requirement_laws(granted in prop::collection::vec(scope_token(), 0..5), need in prop::collection::vec(scope_token(), 1..5)) {
        let s = Scopes::new(&granted);
        let all = ScopeRequirement::all(need.iter().map(String::as_str));
        let any = ScopeRequirement::any(need.iter().map(String::as_str));
        prop_assert_eq!(s.satisfies(&all), need.iter().all(|n| granted.contains(n)));
        prop_assert_eq!(s.satisfies(&any), need.iter().any(|n| granted.contains(n)));
        let mut rev = need.clone();
        rev.reverse();
        prop_assert_eq!(s.satisfies(&all), s.satisfies(&ScopeRequirement::all(rev.iter().map(String::as_str))));
        prop_assert_eq!(s.satisfies(&ScopeRequirement::all([need[0].as_str()])), s.satisfies(&ScopeRequirement::scope(need[0].as_str())));
    }

    /// Whatever the claims hold (many scopes, duplicates, strings JSON must escape, a
    /// `scope` string and an `scp` array together, either delimiter), a validated token's
    /// scopes are exactly the valid items: pieces of the `scope` string, and whole items of
    /// the `scp` array that do not contain the delimiter.
    #[test]
    fn validated_scopes_match_the_claims(
        words in prop::collection::vec(prop_oneof![
            4 => scope_token(),
            1 => "[a-c]{1,2}",
            1 => any::<String>(),
            1 => "[a-z]{1,4}[\"\\\\\u{1}\u{e9}][a-z]{0,3}",
        ], 0..24),
        items in prop::collection::vec(prop_oneof![
            3 => scope_token(),
            1 => "[a-z]{1,3}[ ,][a-z]{1,3}",
            1 => any::<String>(),
        ], 0..12),
        with_string in any::<bool>(),
        with_array in any::<bool>(),
        comma in any::<bool>(),
    ) {
        let i = TestIssuer::new();
        let delimiter = if comma { ',' } else { ' ' };
        let joined = words.join(&delimiter.to_string());
        let mut token = i.token();
        if with_string {
            token = token.claim("scope", &joined);
        }
        if with_array {
            token = token.claim("scp", &items);
        }
        let validator = i
            .validator_builder()
            .scope_claims(ScopeClaims::standard().delimiter(delimiter))
            .build()
            .unwrap();
        let granted = validator.validate(&token.sign()).unwrap().into_parts().1;
        let mut expected: Vec<&str> = Vec::new();
        if with_string {
            expected.extend(joined.split(delimiter).filter(|w| tower_bearer::scope::is_valid_scope(w)));
        }
        if with_array {
            expected.extend(
                items
                    .iter()
                    .map(String::as_str)
                    .filter(|w| tower_bearer::scope::is_valid_scope(w) && !w.contains(delimiter)),
            );
        }
        expected.sort_unstable();
        expected.dedup();
        prop_assert_eq!(granted.iter().collect::<Vec<_>>(), expected.clone());
        prop_assert_eq!(granted.len(), expected.len());
        for w in &expected {
            prop_assert!(granted.contains(w));
        }
        for w in words.iter().chain(&items) {
            prop_assert_eq!(granted.contains(w), expected.contains(&w.as_str()));
        }
    }

    #[test]
    fn hierarchy_is_closed_under_chains(chain in prop::collection::vec(scope_token(), 2..6)) {
        let mut h = ScopeHierarchy::new();
        for pair in chain.windows(2) {
            h = h.implies(&pair[0], [pair[1].clone()]);
        }
        let i = TestIssuer::new();
        let v = i.validator_builder().scope_hierarchy(h).build().unwrap();
        let t = i.token().scopes([chain[0].as_str()]).sign();
        let scopes = v.validate(&t).unwrap().into_parts().1;
        for s in &chain {
            prop_assert!(scopes.grants(s));
        }
        // Without the hierarchy, only the exact grant.
        let plain = i.validator().validate(&t).unwrap().into_parts().1;
        prop_assert!(plain.grants(&chain[0]));
        for s in chain.iter().filter(|s| **s != chain[0]) {
            prop_assert!(!plain.grants(s));
        }
    }
}

#[require_scope("secret:scope", hide_scopes)]
async fn quiet_macro() -> &'static str {
    "x"
}

#[tokio::test]
async fn the_macro_can_hide_scopes_too() {
    let i = TestIssuer::new();
    let app: Router = Router::new().route("/q", get(quiet_macro)).layer(i.layer());
    let (status, headers, body) = send(&app, "/q", Some(&i.token().sign())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let challenge = &headers
        .iter()
        .find(|(k, _)| k == "www-authenticate")
        .unwrap()
        .1;
    assert!(challenge.contains("insufficient_scope") && !challenge.contains("scope=\""));
    assert!(!String::from_utf8(body).unwrap().contains("secret:scope"));
    let ok = i.token().scopes(["secret:scope"]).sign();
    assert_eq!(send(&app, "/q", Some(&ok)).await.0, StatusCode::OK);
}
