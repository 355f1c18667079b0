use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::keys::Key;
use crate::testing::TestIssuer;
use crate::{TokenError, Validator};
use std::sync::atomic::AtomicUsize;

/// Serves a scripted body and counts calls.
struct Scripted {
    body: std::sync::Mutex<Result<String, u16>>,
    calls: Arc<AtomicUsize>,
}

impl Fetch for Scripted {
    fn get<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let body = self.body.lock().unwrap().clone();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            match body {
                Ok(b) => Ok(Fetched::new(b)),
                Err(status) => Err(FetchError::Status {
                    url: url.into(),
                    status,
                }),
            }
        })
    }
}

fn jwks(issuer: &TestIssuer) -> String {
    let pem = crate::testing::keys::P256_PUBLIC;
    let key = Key::ec_pem(pem).unwrap();
    let point = match key.decoding.kind() {
        jsonwebtoken::DecodingKeyKind::SecretOrDer(b) => b.clone(),
        _ => unreachable!(),
    };
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"{}","x":"{}","y":"{}"}}]}}"#,
        issuer.public_key().kid().unwrap(),
        b64(&point[1..33]),
        b64(&point[33..])
    )
}

fn validator(issuer: &TestIssuer, body: Result<String, u16>) -> (Validator, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let v = Validator::builder()
        .issuer(issuer.issuer_id())
        .audience(issuer.audience_id())
        .jwks_url("https://issuer.test/jwks")
        .fetcher(Scripted {
            body: std::sync::Mutex::new(body),
            calls: calls.clone(),
        })
        .build()
        .unwrap();
    (v, calls)
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let issuer = TestIssuer::new();
    let (v, calls) = validator(&issuer, Ok(jwks(&issuer)));
    assert!(!v.keys_loaded());
    let token = issuer.token().sign();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (v, t) = (v.clone(), token.clone());
            tokio::spawn(async move { v.validate_async(&t).await.is_ok() })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(v.keys_loaded());
}

#[tokio::test]
async fn unknown_kid_refetches_once_per_cooldown() {
    let issuer = TestIssuer::new();
    let calls = Arc::new(AtomicUsize::new(0));
    // Tokens are signed before the clock of the cooldown starts: on a loaded machine a
    // debug build signs slowly enough to outlast a short cooldown.
    let storm_tokens = |round: usize| -> Vec<String> {
        (0..50)
            .map(|i| {
                issuer
                    .token()
                    .header("kid", format!("random-{round}-{i}"))
                    .sign()
            })
            .collect()
    };
    let rounds = [storm_tokens(0), storm_tokens(1)];
    let cooldown = Duration::from_secs(1);
    let v = Validator::builder()
        .issuer(issuer.issuer_id())
        .audience(issuer.audience_id())
        .jwks_url("https://issuer.test/jwks")
        .remote_options(RemoteOptions::new().cooldown(cooldown))
        .fetcher(Scripted {
            body: std::sync::Mutex::new(Ok(jwks(&issuer))),
            calls: calls.clone(),
        })
        .build()
        .unwrap();
    v.warm_up().await.unwrap();
    let storm = |tokens: &[String]| {
        let v = v.clone();
        let tokens = tokens.to_vec();
        async move {
            for t in tokens {
                assert_eq!(
                    v.validate_async(&t).await.unwrap_err(),
                    TokenError::UnknownKey
                );
            }
        }
    };
    // Inside the cooldown that the warm-up fetch started: no fetch at all.
    storm(&rounds[0]).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // After it: one fetch for the whole storm.
    tokio::time::sleep(cooldown + Duration::from_millis(100)).await;
    storm(&rounds[1]).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn expired_tokens_never_cause_a_fetch() {
    let issuer = TestIssuer::new();
    let (v, calls) = validator(&issuer, Ok(jwks(&issuer)));
    let expired = issuer.token().header("kid", "unknown").expired().sign();
    assert_eq!(
        v.validate_async(&expired).await.unwrap_err(),
        TokenError::Expired
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn cold_cache_with_endpoint_down_is_unavailable() {
    let issuer = TestIssuer::new();
    let (v, _) = validator(&issuer, Err(500));
    let err = v.validate_async(&issuer.token().sign()).await.unwrap_err();
    assert!(matches!(err, TokenError::Unavailable { retry_after } if retry_after >= 1));
}
