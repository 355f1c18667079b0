//! Tokens shaped like each authorization server's documented examples, minted with the test
//! keys: one accepted token per provider and the refusals that matter for it.

use tower_bearer::testing::TestIssuer;
use tower_bearer::{Algorithm, ScopeClaims, TokenError};

mod cognito {
    use super::*;

    const POOL: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
    const CLIENT: &str = "3n4b5urk1ft4fl3mg5e62d9ado";

    fn issuer() -> TestIssuer {
        TestIssuer::with_algorithm(Algorithm::RS256)
            .issuer(POOL)
            .audience(CLIENT)
    }

    /// An access token as Cognito issues it: no `aud`, the app client in `client_id`,
    /// `token_use: access`, groups in `cognito:groups`.
    fn access_token(issuer: &TestIssuer, client: &str) -> String {
        issuer
            .token()
            .without_claim("aud")
            .header("typ", "JWT")
            .claim("client_id", client)
            .claim("token_use", "access")
            .claim("scope", "aws.cognito.signin.user.admin openid profile")
            .claim("cognito:groups", ["admins", "editors"])
            .claim("username", "alice")
            .claim("version", 2)
            .claim("origin_jti", "8f6a3e1c-0000-4000-8000-000000000000")
            .claim("event_id", "5c1f6e7a-0000-4000-8000-000000000000")
            .claim("auth_time", 1_700_000_000)
            .sign()
    }

    /// An ID token: `aud` is the app client, `token_use: id`, no `client_id`.
    fn id_token(issuer: &TestIssuer) -> String {
        issuer
            .token()
            .header("typ", "JWT")
            .without_claim("client_id")
            .claim("aud", CLIENT)
            .claim("token_use", "id")
            .claim("email", "alice@example.com")
            .claim("cognito:username", "alice")
            .sign()
    }

    fn validator(issuer: &TestIssuer) -> tower_bearer::Validator {
        issuer
            .validator_builder()
            .audience_from_client_id()
            .token_use("access")
            .scope_claims(ScopeClaims::paths(["scope", "cognito:groups"]))
            .build()
            .unwrap()
    }

    #[test]
    fn an_access_token_of_this_app_client_is_accepted() {
        let issuer = issuer();
        let auth = validator(&issuer)
            .validate(&access_token(&issuer, CLIENT))
            .unwrap();
        let scopes = auth.scopes();
        for s in ["openid", "profile", "admins", "editors"] {
            assert!(scopes.contains(s), "{s}");
        }
        assert_eq!(auth.claims().client_id(), Some(CLIENT));
    }

    #[test]
    fn another_app_client_is_refused() {
        let issuer = issuer();
        let err = validator(&issuer)
            .validate(&access_token(&issuer, "another-app-client"))
            .unwrap_err();
        assert_eq!(err, TokenError::AudienceMismatch);
    }

    #[test]
    fn an_id_token_is_refused_where_an_access_token_is_expected() {
        let issuer = issuer();
        let err = validator(&issuer).validate(&id_token(&issuer)).unwrap_err();
        assert_eq!(err, TokenError::MissingClaim("client_id"));
        // Even an ID token that carries the client's id is refused by `token_use`.
        let tricky = issuer
            .token()
            .claim("client_id", CLIENT)
            .claim("token_use", "id")
            .sign();
        let err = validator(&issuer).validate(&tricky).unwrap_err();
        assert_eq!(err, TokenError::InvalidClaim("token_use"));
        let missing = issuer.token().claim("client_id", CLIENT).sign();
        let err = validator(&issuer).validate(&missing).unwrap_err();
        assert_eq!(err, TokenError::MissingClaim("token_use"));
    }

    #[test]
    fn a_token_for_another_resource_is_refused_even_for_this_client() {
        let issuer = issuer();
        let token = issuer
            .token()
            .claim("client_id", CLIENT)
            .claim("token_use", "access")
            .claim("aud", "https://another.api")
            .sign();
        let err = validator(&issuer).validate(&token).unwrap_err();
        assert_eq!(err, TokenError::AudienceMismatch);
    }

    #[test]
    fn without_the_option_the_aud_rule_applies() {
        let issuer = issuer();
        let plain = issuer.validator();
        let err = plain.validate(&access_token(&issuer, CLIENT)).unwrap_err();
        assert_eq!(err, TokenError::MissingClaim("aud"));
    }
}

mod auth0 {
    use super::*;

    /// Auth0 with RBAC: `aud` an array (the API and `/userinfo`), `scope` a string,
    /// `permissions` an array, and a namespaced custom claim whose name holds dots.
    #[test]
    fn permissions_and_namespaced_roles_from_named_paths_only() {
        let issuer = TestIssuer::with_algorithm(Algorithm::RS256)
            .issuer("https://example.eu.auth0.com/")
            .audience("https://api.example.com");
        let token = issuer
            .token()
            .claim(
                "aud",
                [
                    "https://api.example.com",
                    "https://example.eu.auth0.com/userinfo",
                ],
            )
            .claim("azp", "my-spa")
            .claim("scope", "openid profile")
            .claim("permissions", ["read:users", "write:users"])
            .claim("https://example.com/roles", ["admin"])
            .claim(
                "https://example",
                serde_json::json!({"com/roles": ["not-this"]}),
            )
            .sign();
        let validator = issuer
            .validator_builder()
            .scope_claims(ScopeClaims::segment_paths([
                vec!["permissions"],
                vec!["https://example.com/roles"],
            ]))
            .build()
            .unwrap();
        let auth = validator.validate(&token).unwrap();
        let mut granted: Vec<&str> = auth.scopes().iter().collect();
        granted.sort_unstable();
        assert_eq!(granted, ["admin", "read:users", "write:users"]);
    }
}

mod keycloak {
    use super::*;

    /// Keycloak keeps realm roles and each client's roles apart; a role granted on another
    /// client must not count for this one.
    #[test]
    fn another_clients_roles_do_not_count() {
        let issuer = TestIssuer::with_algorithm(Algorithm::RS256)
            .issuer("https://sso.example.com/realms/acme")
            .audience("account");
        let token = issuer
            .token()
            .claim("azp", "web-app")
            .claim("scope", "openid email")
            .claim(
                "realm_access",
                serde_json::json!({"roles": ["offline_access"]}),
            )
            .claim(
                "resource_access",
                serde_json::json!({
                    "orders-api": {"roles": ["orders:read"]},
                    "billing-api": {"roles": ["billing:admin"]},
                }),
            )
            .sign();
        let validator = issuer
            .validator_builder()
            .scope_claims(ScopeClaims::path("resource_access.orders-api.roles"))
            .build()
            .unwrap();
        let granted: Vec<String> = validator
            .validate(&token)
            .unwrap()
            .scopes()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(granted, ["orders:read"]);
    }
}

mod entra {
    use super::*;
    use serde_json::{json, Value};

    const CONTOSO: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
    const FABRIKAM: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const API: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

    fn iss(tid: &str) -> String {
        TEMPLATE.replace("{tenantid}", tid)
    }

    fn issuer() -> TestIssuer {
        TestIssuer::with_algorithm(Algorithm::RS256)
            .issuer(iss(CONTOSO))
            .audience(API)
            .kid("nOo3ZDrODXEK1jKWhXslHR_KXEg")
    }

    /// Entra's JWKS publishes keys with `x5t` and `x5c` and no `alg`.
    fn entra_jwks(issuer: &TestIssuer) -> String {
        let mut jwks: Value = serde_json::from_str(&issuer.jwks()).unwrap();
        for key in jwks["keys"].as_array_mut().unwrap() {
            let key = key.as_object_mut().unwrap();
            key.remove("alg");
            key.insert("use".into(), json!("sig"));
            key.insert("x5t".into(), json!("nOo3ZDrODXEK1jKWhXslHR_KXEg"));
            key.insert("x5c".into(), json!(["MIIDBTCCAe2gAwIBAgIQN33ROaIJ6bJBWDCxtmJEbjANBgkqhkiG9w0BAQsFADAtMSswKQYDVQQDEyJhY2NvdW50cy5hY2Nlc3Njb250cm9sLndpbmRvd3MubmV0"]));
            key.insert("issuer".into(), json!(TEMPLATE));
        }
        jwks.to_string()
    }

    /// A v2.0 access token of tenant `tid`, as Entra issues it.
    fn token(issuer: &TestIssuer, tid: &str, iss_tid: &str) -> String {
        issuer
            .token()
            .header("typ", "JWT")
            .without_claim("client_id")
            .claim("iss", iss(iss_tid))
            .claim("tid", tid)
            .claim("azp", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c")
            .claim("azpacr", "0")
            .claim("oid", "00000000-0000-0000-66f3-3332eca7ea81")
            .claim("scp", "access_as_user")
            .claim("ver", "2.0")
            .claim("uti", "fqiBqXLPj0eQa82S-IYFAA")
            .sign()
    }

    fn multi(tenants: Option<&[&str]>) -> tower_bearer::Validator {
        let issuer = issuer();
        let builder = tower_bearer::Validator::builder()
            .issuer_template(TEMPLATE)
            .audience(API)
            .jwks_json(&entra_jwks(&issuer));
        match tenants {
            Some(t) => builder.tenants(t.iter().copied()),
            None => builder.any_tenant(),
        }
        .build()
        .unwrap()
    }

    #[test]
    fn single_tenant_with_keys_as_entra_publishes_them() {
        let issuer = issuer();
        let validator = tower_bearer::Validator::builder()
            .issuer(iss(CONTOSO))
            .audience(API)
            .jwks_json(&entra_jwks(&issuer))
            .build()
            .unwrap();
        let auth = validator
            .validate(&token(&issuer, CONTOSO, CONTOSO))
            .unwrap();
        assert!(auth.scopes().contains("access_as_user"));
        let err = validator
            .validate(&token(&issuer, FABRIKAM, FABRIKAM))
            .unwrap_err();
        assert_eq!(err, TokenError::IssuerMismatch);
    }

    #[test]
    fn multi_tenant_allows_listed_tenants_only() {
        let issuer = issuer();
        let v = multi(Some(&[CONTOSO]));
        assert!(v.validate(&token(&issuer, CONTOSO, CONTOSO)).is_ok());
        assert_eq!(
            v.validate(&token(&issuer, FABRIKAM, FABRIKAM)).unwrap_err(),
            TokenError::TenantNotAllowed
        );
        // Upper-case configuration matches Entra's lower-case tids.
        let upper = multi(Some(&["9188040D-6C67-4C5B-B112-36A304B66DAD"]));
        assert!(upper.validate(&token(&issuer, CONTOSO, CONTOSO)).is_ok());
    }

    #[test]
    fn the_issuer_must_be_the_template_filled_with_the_tokens_own_tid() {
        let issuer = issuer();
        let v = multi(Some(&[CONTOSO, FABRIKAM]));
        // A tid that does not match the issuer.
        assert_eq!(
            v.validate(&token(&issuer, CONTOSO, FABRIKAM)).unwrap_err(),
            TokenError::IssuerMismatch
        );
        // A tid that is not a tenant id, whatever the issuer says.
        for bad in [
            "common",
            "organizations",
            "../x",
            "",
            "9188040d-6c67-4c5b-b112-36a304b66da",
        ] {
            assert_eq!(
                v.validate(&token(&issuer, bad, bad)).unwrap_err(),
                TokenError::InvalidClaim("tid"),
                "{bad:?}"
            );
        }
        let no_tid = issuer.token().claim("iss", iss(CONTOSO)).sign();
        assert_eq!(
            v.validate(&no_tid).unwrap_err(),
            TokenError::MissingClaim("tid")
        );
        let numeric = issuer
            .token()
            .claim("iss", iss(CONTOSO))
            .claim("tid", 7)
            .sign();
        assert_eq!(
            v.validate(&numeric).unwrap_err(),
            TokenError::InvalidClaim("tid")
        );
        // Another issuer altogether.
        let other = issuer
            .token()
            .claim("iss", format!("https://evil.example/{CONTOSO}/v2.0"))
            .claim("tid", CONTOSO)
            .sign();
        assert_eq!(v.validate(&other).unwrap_err(), TokenError::IssuerMismatch);
    }

    #[test]
    fn any_tenant_is_an_explicit_choice() {
        let issuer = issuer();
        assert!(multi(None)
            .validate(&token(&issuer, FABRIKAM, FABRIKAM))
            .is_ok());
        let e = tower_bearer::Validator::builder()
            .issuer_template(TEMPLATE)
            .audience(API)
            .jwks_json(&entra_jwks(&issuer))
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("any_tenant()") && e.contains("tenants("), "{e}");
        let e = tower_bearer::Validator::builder()
            .issuer("https://x")
            .tenants([CONTOSO])
            .audience(API)
            .jwks_json(&entra_jwks(&issuer))
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("issuer_template"), "{e}");
        let e = tower_bearer::Validator::multi_issuer([multi(None)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("issuer template"), "{e}");
    }

    /// App-only tokens carry application permissions in `roles`.
    #[test]
    fn app_permissions_from_roles() {
        let issuer = issuer();
        let app_only = issuer
            .token()
            .claim("tid", CONTOSO)
            .claim("roles", ["Orders.Read.All"])
            .claim("idtyp", "app")
            .sign();
        let v = tower_bearer::Validator::builder()
            .issuer_template(TEMPLATE)
            .tenants([CONTOSO])
            .audience(API)
            .jwks_json(&entra_jwks(&issuer))
            .scope_claims(ScopeClaims::paths(["scp", "roles"]))
            .build()
            .unwrap();
        let auth = v.validate(&app_only).unwrap();
        assert!(auth.scopes().contains("Orders.Read.All"));
    }

    /// Discovery of the multi-tenant issuer: the document at the template filled with
    /// `common` names the template itself as its issuer.
    #[tokio::test]
    async fn discovery_accepts_the_template_as_the_documents_issuer() {
        let issuer = issuer();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let template = format!("{base}/{{tenantid}}/v2.0");
        let jwks = entra_jwks(&issuer);
        let doc = json!({
            "issuer": template,
            "jwks_uri": format!("{base}/common/discovery/v2.0/keys"),
        })
        .to_string();
        let app = axum::Router::new()
            .route(
                "/common/v2.0/.well-known/openid-configuration",
                axum::routing::get(move || async move { doc }),
            )
            .route(
                "/common/discovery/v2.0/keys",
                axum::routing::get(move || async move { jwks }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let v = tower_bearer::Validator::builder()
            .issuer_template(&template)
            .tenants([CONTOSO])
            .audience(API)
            .discover()
            .remote_options(tower_bearer::remote::RemoteOptions::new().allow_http(true))
            .build()
            .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), v.warm_up())
            .await
            .unwrap()
            .unwrap();
        let local_iss = template.replace("{tenantid}", CONTOSO);
        let token = issuer
            .token()
            .claim("iss", local_iss)
            .claim("tid", CONTOSO)
            .sign();
        assert!(v.validate(&token).is_ok());
    }
}

mod google {
    use super::*;

    const SERVICE: &str = "https://orders-abc123-ew.a.run.app";

    /// A Google-signed ID token as Cloud Run or Pub/Sub push sends it.
    fn id_token(issuer: &TestIssuer, iss: &str) -> String {
        issuer
            .token()
            .header("typ", "JWT")
            .without_claim("client_id")
            .without_claim("jti")
            .claim("iss", iss)
            .claim("aud", SERVICE)
            .claim("azp", "112233445566778899000")
            .claim("sub", "112233445566778899000")
            .claim("email", "pusher@my-project.iam.gserviceaccount.com")
            .claim("email_verified", true)
            .sign()
    }

    fn issuer() -> TestIssuer {
        TestIssuer::with_algorithm(Algorithm::RS256)
            .issuer("https://accounts.google.com")
            .audience(SERVICE)
    }

    const PUSHER: &str = "pusher@my-project.iam.gserviceaccount.com";

    fn validator(issuer: &TestIssuer) -> tower_bearer::Validator {
        tower_bearer::Validator::builder()
            .google_id_tokens()
            .google_accounts([PUSHER])
            .audience(SERVICE)
            .jwks_json(&issuer.jwks())
            .build()
            .unwrap()
    }

    #[test]
    fn both_spellings_of_the_issuer_are_accepted_with_the_opt_in() {
        let issuer = issuer();
        let v = validator(&issuer);
        for iss in ["https://accounts.google.com", "accounts.google.com"] {
            assert!(v.validate(&id_token(&issuer, iss)).is_ok(), "{iss}");
        }
    }

    #[test]
    fn refusals() {
        let issuer = issuer();
        let v = validator(&issuer);
        let unverified = issuer
            .token()
            .claim("aud", SERVICE)
            .claim("email_verified", false)
            .sign();
        assert_eq!(
            v.validate(&unverified).unwrap_err(),
            TokenError::InvalidClaim("email_verified")
        );
        let stringly = issuer
            .token()
            .claim("aud", SERVICE)
            .claim("email_verified", "true")
            .sign();
        assert_eq!(
            v.validate(&stringly).unwrap_err(),
            TokenError::InvalidClaim("email_verified")
        );
        let missing = issuer.token().claim("aud", SERVICE).sign();
        assert_eq!(
            v.validate(&missing).unwrap_err(),
            TokenError::MissingClaim("email_verified")
        );
        // Any Google service account can mint a token for our audience: only the named
        // callers pass.
        let stranger = issuer
            .token()
            .claim("aud", SERVICE)
            .claim("email", "attacker@evil-project.iam.gserviceaccount.com")
            .claim("email_verified", true)
            .sign();
        assert_eq!(
            v.validate(&stranger).unwrap_err(),
            TokenError::InvalidClaim("email")
        );
        let anyone = tower_bearer::Validator::builder()
            .google_id_tokens()
            .any_google_account()
            .audience(SERVICE)
            .jwks_json(&issuer.jwks())
            .build()
            .unwrap();
        assert!(anyone.validate(&stranger).is_ok());
        let e = tower_bearer::Validator::builder()
            .google_id_tokens()
            .audience(SERVICE)
            .jwks_json(&issuer.jwks())
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("google_accounts") && e.contains("any_google_account"),
            "{e}"
        );
        let other_service = issuer
            .token()
            .claim("aud", "https://another.run.app")
            .claim("email_verified", true)
            .sign();
        assert_eq!(
            v.validate(&other_service).unwrap_err(),
            TokenError::AudienceMismatch
        );
        // Without the opt-in, a Google ID token is refused like any ID token.
        let plain = tower_bearer::Validator::builder()
            .issuer("https://auth.example.com")
            .audience(SERVICE)
            .jwks_json(&issuer.jwks())
            .build()
            .unwrap();
        assert_eq!(
            plain
                .validate(&id_token(&issuer, "https://accounts.google.com"))
                .unwrap_err(),
            TokenError::IssuerMismatch
        );
    }
}

mod okta {
    use super::*;

    /// Okta: `scp` an array, `cid` the client, `aud` such as `api://default`; during key
    /// rotation its JWKS holds several RSA keys.
    #[test]
    fn scp_array_and_a_rotating_key_set() {
        let old = TestIssuer::with_algorithm(Algorithm::RS256)
            .issuer("https://example.okta.com/oauth2/default")
            .audience("api://default")
            .kid("old-key");
        let new = TestIssuer::with_algorithm(Algorithm::RS256)
            .issuer("https://example.okta.com/oauth2/default")
            .audience("api://default")
            .kid("new-key");
        let keys = |i: &TestIssuer| -> serde_json::Value {
            serde_json::from_str::<serde_json::Value>(&i.jwks()).unwrap()["keys"][0].clone()
        };
        let jwks = serde_json::json!({"keys": [keys(&old), keys(&new)]}).to_string();
        let v = tower_bearer::Validator::builder()
            .issuer("https://example.okta.com/oauth2/default")
            .audience("api://default")
            .jwks_json(&jwks)
            .build()
            .unwrap();
        for issuer in [&old, &new] {
            let token = issuer
                .token()
                .without_claim("client_id")
                .without_claim("scope")
                .claim("cid", "0oa1b2c3d4e5f6g7h8i9")
                .claim("uid", "00u1a2b3c4d5e6f7g8h9")
                .claim("scp", ["orders:read", "openid"])
                .sign();
            let auth = v.validate(&token).unwrap();
            assert!(auth.scopes().contains("orders:read"));
        }
    }
}

mod jwks_shapes {
    use super::*;
    use serde_json::json;

    /// Keycloak publishes an `RSA-OAEP` encryption key next to its signing keys: the
    /// encryption key is skipped, the rest of the set loads.
    #[test]
    fn an_encryption_key_beside_the_signing_keys_is_skipped_alone() {
        let issuer = TestIssuer::with_algorithm(Algorithm::RS256)
            .issuer("https://sso.example.com/realms/acme")
            .audience("account")
            .kid("sig-1");
        let signing: serde_json::Value =
            serde_json::from_str::<serde_json::Value>(&issuer.jwks()).unwrap()["keys"][0].clone();
        let mut enc = signing.clone();
        let enc_obj = enc.as_object_mut().unwrap();
        enc_obj.insert("kid".into(), json!("enc-1"));
        enc_obj.insert("use".into(), json!("enc"));
        enc_obj.insert("alg".into(), json!("RSA-OAEP"));
        let jwks = json!({"keys": [enc, signing]}).to_string();
        let v = tower_bearer::Validator::builder()
            .issuer(issuer.issuer_id())
            .audience("account")
            .jwks_json(&jwks)
            .build()
            .unwrap();
        assert!(v.validate(&issuer.token().sign()).is_ok());
        // A token naming the encryption key's kid is an unknown key, never tried.
        let enc_token = issuer.token().header("kid", "enc-1").sign();
        assert_eq!(v.validate(&enc_token).unwrap_err(), TokenError::UnknownKey);
    }
}
