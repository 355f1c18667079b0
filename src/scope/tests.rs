use std::sync::Arc;

use super::*;
use crate::claims::grant::Grant;
use crate::claims::registered::Registered;
use crate::error::ConfigError;

fn with(h: &ScopeHierarchy, granted: &[&str]) -> Scopes {
    Scopes::from_values(granted, Some(Arc::new(h.compile().unwrap())))
}

fn extracted(source: &ScopeClaims, json: &str) -> Vec<String> {
    let mut r: Registered = serde_json::from_str(json).unwrap();
    assert!(r.rebase(json));
    let scopes = source.extract(&r, json, None).unwrap();
    Scopes::from_grant(Arc::new(Grant {
        registered: r,
        json: json.to_owned(),
        scopes,
    }))
    .iter()
    .map(str::to_owned)
    .collect()
}

#[test]
fn array_items_are_never_split() {
    let std = ScopeClaims::standard();
    assert_eq!(
        extracted(&std, r#"{"scp":["a","users:read admin"]}"#),
        ["a"]
    );
    let comma = ScopeClaims::standard().delimiter(',');
    assert_eq!(extracted(&comma, r#"{"scope":["x,y","z"]}"#), ["z"]);
    assert_eq!(extracted(&comma, r#"{"scope":"x,y"}"#), ["x", "y"]);
    assert_eq!(
        extracted(&std, r#"{"scope":"b a  b","scp":["c"]}"#),
        ["a", "b", "c"]
    );
}

#[test]
fn exact_and_case_sensitive() {
    let s = Scopes::new(["users:read", "Users:Write"]);
    assert!(s.contains("users:read"));
    assert!(!s.contains("users:Read"));
    assert!(!s.grants("users:write"));
}

#[test]
fn invalid_values_are_dropped() {
    let s = Scopes::new(["ok", "bad\"quote", "bad\\slash", "", "é"]);
    assert_eq!(s.iter().collect::<Vec<_>>(), ["ok"]);
}

#[test]
fn hierarchy_is_transitive_and_opt_in() {
    let h = ScopeHierarchy::new()
        .implies("users:admin", ["users:write"])
        .implies("users:write", ["users:read"]);
    let s = with(&h, &["users:admin"]);
    assert!(s.grants("users:read"));
    assert!(!s.contains("users:read"));
    assert!(!with(&h, &["users:read"]).grants("users:write"));
}

#[test]
fn superuser_and_wildcards() {
    let h = ScopeHierarchy::new().superuser("admin").wildcards();
    assert!(with(&h, &["admin"]).grants("anything"));
    assert!(with(&h, &["users:*"]).grants("users:read"));
    assert!(!with(&h, &["users:*"]).grants("accounts:read"));
    let plain = ScopeHierarchy::new();
    assert!(!with(&plain, &["users:*"]).grants("users:read"));
}

#[test]
fn requirement_construction_validates() {
    assert!(ScopeRequirement::try_all(["a b"]).is_err());
    assert!(matches!(
        ScopeRequirement::try_any(Vec::<&str>::new()),
        Err(ConfigError::EmptyRequirement)
    ));
    let r = ScopeRequirement::all([
        ScopeRequirement::scope("a"),
        ScopeRequirement::any(["b", "a"]),
    ]);
    assert_eq!(r.challenge_scopes(), "a b");
    assert_eq!(r.to_string(), "all(a, any(b, a))");
}

#[test]
#[should_panic(expected = "invalid scope \"bad scope\"")]
fn bad_scope_panics_with_its_name() {
    let _ = ScopeRequirement::all(["bad scope"]);
}

#[test]
fn extracting_into_an_index_replaces_what_it_held() {
    let source = ScopeClaims::standard();
    let registered = |json: &str| {
        let mut r: Registered = serde_json::from_str(json).unwrap();
        assert!(r.rebase(json));
        r
    };
    let after = r#"{"scope":"y x"}"#;
    // What the index held before: a handful (inline), and more than eight (sorted, on the
    // heap); escaped, so indexed in a text of its own.
    for before in [
        r#"{"scope":"a b c"}"#,
        r#"{"scope":"a b c d e f g h i j"}"#,
        r#"{"scope":"a\u0020b"}"#,
    ] {
        let mut index = source.extract(&registered(before), before, None).unwrap();
        assert!(source.extract_into(&registered(after), after, None, &mut index));
        let scopes = Scopes::from_grant(Arc::new(Grant {
            registered: registered(after),
            json: after.to_owned(),
            scopes: index,
        }));
        assert_eq!(scopes.iter().collect::<Vec<_>>(), ["x", "y"], "{before}");
        assert_eq!(scopes.len(), 2);
        assert!(!scopes.contains("a"));
    }
}

#[test]
fn claim_paths_take_strings_and_whole_valid_array_items() {
    let source = ScopeClaims::paths(["perm", "roles.list"]);
    assert_eq!(
        extracted(
            &source,
            r#"{"perm":"b a","roles":{"list":["c","d e","f\"g",7]}}"#
        ),
        ["a", "b", "c"]
    );
    let comma = ScopeClaims::paths(["roles"]).delimiter(',');
    assert_eq!(extracted(&comma, r#"{"roles":["x,y","z"]}"#), ["z"]);
}

#[test]
fn listing_comparing_and_emptiness_see_distinct_scopes() {
    let s = Scopes::new(["b", "a", "b"]);
    assert_eq!(format!("{s:?}"), r#"{"a", "b"}"#);
    assert_eq!(s, Scopes::new(["a", "b"]));
    assert_ne!(s, Scopes::new(["a"]));
    assert_ne!(s, Scopes::new(["a", "c"]));
    assert!(!s.is_empty());
    assert!(Scopes::new(Vec::<&str>::new()).is_empty());
    assert!(Scopes::new(["bad scope"]).is_empty());
}
