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
