//! The claims fast path agrees with serde_json wherever it answers, and answers for the
//! claims real issuers send.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tower_bearer::__fuzz::{claims_fast_path_agrees, claims_fast_path_answers};

fn plain_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9:/._ -]{0,12}",
        1 => any::<String>(),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        plain_string().prop_map(Value::from),
        any::<u64>().prop_map(|n| Value::from(n % 2_000_000_000_000_000)),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn any_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(plain_string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn registered_value(name: &'static str) -> BoxedStrategy<Value> {
    match name {
        "exp" | "nbf" | "iat" => prop_oneof![
            4 => (0u64..10_000_000_000).prop_map(Value::from),
            1 => any_value(),
        ]
        .boxed(),
        "aud" | "scope" | "scp" => prop_oneof![
            2 => plain_string().prop_map(Value::from),
            2 => prop::collection::vec(plain_string(), 0..4)
                .prop_map(Value::from),
            1 => any_value(),
        ]
        .boxed(),
        _ => prop_oneof![4 => plain_string().prop_map(Value::from), 1 => any_value()].boxed(),
    }
}

fn claims() -> impl Strategy<Value = (Map<String, Value>, bool)> {
    let names = [
        "iss",
        "sub",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "client_id",
        "azp",
        "scope",
        "scp",
    ];
    (
        prop::collection::vec((prop::sample::select(names.to_vec()), any::<bool>()), 0..8)
            .prop_flat_map(|picked| {
                picked
                    .into_iter()
                    .map(|(n, _)| registered_value(n).prop_map(move |v| (n.to_owned(), v)))
                    .collect::<Vec<_>>()
            }),
        prop::collection::vec((plain_string(), any_value()), 0..4),
        any::<bool>(),
    )
        .prop_map(|(registered, extra, pretty)| {
            let mut m = Map::new();
            for (k, v) in extra.into_iter().chain(registered) {
                m.insert(k, v);
            }
            (m, pretty)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fast_path_declines_or_agrees((map, pretty) in claims()) {
        let v = Value::Object(map);
        let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
        prop_assert!(claims_fast_path_agrees(&text).is_ok(), "{:?}", claims_fast_path_agrees(&text));
    }
}

/// The agreement property means little if the fast path declines everything it is shown.
#[test]
fn generated_claims_mostly_take_the_fast_path() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut answered, total) = (0, 2000);
    for _ in 0..total {
        let (map, _) = claims().new_tree(&mut runner).unwrap().current();
        let text = Value::Object(map).to_string();
        assert!(claims_fast_path_agrees(&text).is_ok());
        answered += usize::from(claims_fast_path_answers(&text));
    }
    assert!(answered * 4 > total, "only {answered} of {total} answered");
}

#[test]
fn everyday_claims_take_the_fast_path_and_odd_ones_do_not() {
    let everyday = [
        json!({"iss": "https://issuer.test", "aud": "api", "sub": "alice", "exp": 1_764_043_600u64,
               "iat": 1_764_040_000u64, "jti": "j", "client_id": "c", "scope": "users:read profile"}),
        json!({"iss": "https://login.example/tenant/v2.0", "aud": ["api", "other"], "exp": 1u64,
               "nbf": 0u64, "scp": ["a", "b"], "roles": ["x"], "ver": "2.0",
               "ext": {"n": [1, 2.5, -3, true, null], "o": {}}}),
        json!({}),
    ];
    for v in everyday {
        let text = v.to_string();
        assert!(claims_fast_path_answers(&text), "{text}");
        assert!(claims_fast_path_agrees(&text).is_ok());
    }
    let odd = [
        r#"{"iss":"a\u0062"}"#,
        r#"{"exp":1.5}"#,
        r#"{"exp":-1}"#,
        r#"{"exp":1e9}"#,
        r#"{"exp":1234567890123456}"#,
        r#"{"sub":null}"#,
        r#"{"cnf":{"jkt":"x"}}"#,
        r#"{"scope":["a",1]}"#,
        r#"{"iss":"a","iss":"b"}"#,
        r#"{"role":"a","x":1,"role":"b"}"#,
        r#"{"\u0069ss":"a"}"#,
        r#"{"x":"\n"}"#,
        r#"{"x":[1,]}"#,
        r#"{"x":01}"#,
        r#"{"x":1} x"#,
        r#"[]"#,
        r#"{"x":tru}"#,
    ];
    for text in odd {
        assert!(!claims_fast_path_answers(text), "{text}");
    }
}
