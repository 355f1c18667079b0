//! The scope values a user handles: how `Scopes`, `Scope`, `ScopeRequirement` and
//! `ScopeHierarchy` print, compare and count, and a hierarchy with a cycle.

use std::time::Duration;

use tower_bearer::testing::TestIssuer;
use tower_bearer::{ConfigError, Scope, ScopeHierarchy, ScopeRequirement, Scopes};

#[test]
fn scopes_print_as_a_sorted_set_of_the_valid_ones() {
    let s = Scopes::new(["b", "a", "not valid", "b"]);
    assert_eq!(format!("{s:?}"), r#"{"a", "b"}"#);
}

#[test]
fn scopes_compare_by_content_and_count_distinct_values() {
    let ab = Scopes::new(["a", "b"]);
    assert_eq!(ab, Scopes::new(["b", "a", "a"]));
    assert_ne!(ab, Scopes::new(["a"]));
    assert_eq!(ab.len(), 2);
    assert!(!ab.is_empty());
    let none = Scopes::new(["not valid", ""]);
    assert_eq!(none.len(), 0);
    assert!(none.is_empty());
}

#[test]
fn how_a_scope_and_a_requirement_print() {
    let scope = Scope::new("users:read").unwrap();
    assert_eq!(format!("{scope:?}"), r#""users:read""#);
    assert_eq!(format!("{scope}"), "users:read");
    let need = ScopeRequirement::all([
        ScopeRequirement::from(scope),
        ScopeRequirement::any(["a", "b"]),
    ]);
    assert_eq!(format!("{need:?}"), "all(users:read, any(a, b))");
}

#[test]
fn hierarchy_debug_output() {
    let h = ScopeHierarchy::new()
        .implies("a", ["b", "c"])
        .superuser("root")
        .wildcards();
    assert_eq!(
        format!("{h:?}"),
        r#"ScopeHierarchy { implies: [("a", ["b", "c"])], superusers: ["root"], wildcards: true }"#
    );
}

/// A cycle in the implications (b → c → b), reached from a: the hierarchy is built, and
/// granting a grants both. Built on a thread with a deadline, so that a walk that never ends
/// fails the test instead of hanging it.
#[test]
fn a_cycle_of_implications_is_followed_once() {
    let issuer = TestIssuer::new();
    let builder = issuer.validator_builder().scope_hierarchy(
        ScopeHierarchy::new()
            .implies("a", ["b"])
            .implies("b", ["c"])
            .implies("c", ["b"]),
    );
    let (done, built) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(builder.build());
    });
    let v = built
        .recv_timeout(Duration::from_secs(3))
        .expect("the hierarchy is compiled at once")
        .unwrap();
    let token = issuer.token().scopes(["a"]).sign();
    let auth = v.validate(&token).unwrap();
    for s in ["a", "b", "c"] {
        assert!(auth.scopes().grants(s), "{s}");
    }
    assert!(!auth.scopes().grants("d"));
}

/// A hierarchy naming an invalid scope is refused when the validator is built, naming the
/// first invalid scope, wherever it appears.
#[test]
fn an_invalid_scope_in_a_hierarchy_is_refused_at_build_time() {
    let issuer = TestIssuer::new();
    let build = |h: ScopeHierarchy| issuer.validator_builder().scope_hierarchy(h).build();
    for (h, bad) in [
        (
            ScopeHierarchy::new().implies("has space", ["ok"]),
            "has space",
        ),
        (
            ScopeHierarchy::new().implies("ok", ["fine", "quo\"te", "back\\slash"]),
            "quo\"te",
        ),
        (ScopeHierarchy::new().superuser(""), ""),
    ] {
        match build(h) {
            Err(ConfigError::InvalidScope(s)) => assert_eq!(s, bad),
            other => panic!("{bad:?}: {:?}", other.map(|_| ())),
        }
    }
}
