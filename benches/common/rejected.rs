//! The rejected tokens of the benches: a forged signature, an expired token, a wrong
//! audience, 64 KiB of garbage, and no token at all. Shared by `instructions` and `rejections`.

use tower_bearer::testing::TestIssuer;

/// The kinds of rejection, in the order the benches report them.
pub(crate) const REJECTIONS: [&str; 5] = ["forged", "expired", "wrong_aud", "garbage", "missing"];

/// The size of the `garbage` token: far over the length cap (8 KiB by default).
pub(crate) const GARBAGE_LEN: usize = 64 * 1024;

/// The token of a rejection case (`None`: no credentials at all).
pub(crate) fn rejected_token(issuer: &TestIssuer, valid: &str, kind: &str) -> Option<String> {
    let token = |b: tower_bearer::testing::TokenBuilder<'_>| {
        b.scopes(["users:read", "users:write", "profile"])
            .subject("alice")
            .sign()
    };
    match kind {
        // The valid token with one signature character changed.
        "forged" => {
            let mut t = valid.as_bytes().to_vec();
            let at = t.len() - 8;
            t[at] = if t[at] == b'A' { b'B' } else { b'A' };
            Some(String::from_utf8(t).expect("ASCII"))
        }
        "expired" => Some(token(issuer.token().expired())),
        "wrong_aud" => Some(token(issuer.token().claim("aud", "https://other.test"))),
        // Three base64url segments of pseudo-random characters, 64 KiB in all.
        "garbage" => {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut x = 0x9e37_79b9_7f4a_7c15_u64;
            let mut t: Vec<u8> = (0..GARBAGE_LEN)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ALPHABET[(x % 64) as usize]
                })
                .collect();
            t[GARBAGE_LEN / 3] = b'.';
            t[2 * GARBAGE_LEN / 3] = b'.';
            Some(String::from_utf8(t).expect("ASCII"))
        }
        "missing" => None,
        other => panic!("unknown rejection {other:?}; rejections: {REJECTIONS:?}"),
    }
}
