use std::time::Duration;

use super::fetch::parse_max_age;
use super::*;

#[test]
fn max_age_parsing() {
    assert_eq!(
        parse_max_age("public, max-age=300"),
        Some(Duration::from_secs(300))
    );
    assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
    assert_eq!(parse_max_age("public"), None);
    assert_eq!(parse_max_age("max-age=abc"), None);
}

#[test]
fn rfc8414_inserts_well_known_before_path() {
    assert_eq!(
        rfc8414_url("https://h.example/tenant/a"),
        "https://h.example/.well-known/oauth-authorization-server/tenant/a"
    );
    assert_eq!(
        rfc8414_url("https://h.example"),
        "https://h.example/.well-known/oauth-authorization-server"
    );
}

#[test]
fn plain_http_refused_unless_allowed() {
    let o = RemoteOptions::new();
    assert!(matches!(
        o.check_url("http://x/jwks"),
        Err(FetchError::InsecureUrl { .. })
    ));
    assert!(o.check_url("https://x/jwks").is_ok());
    assert!(o
        .clone()
        .allow_http(true)
        .check_url("http://127.0.0.1/j")
        .is_ok());
    assert!(o.check_url("file:///etc/passwd").is_err());
}
