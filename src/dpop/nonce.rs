//! Stateless server nonces (RFC 9449 §8).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::NonceStore;

/// Stateless server nonces: `window || HMAC(key, window)[..16]`, base64url.
#[derive(Clone)]
pub(crate) struct Nonces {
    pub(crate) key: [u8; 32],
    pub(crate) window: u64,
}

impl Nonces {
    fn keyed(&self, slot: u64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(&slot.to_be_bytes());
        mac
    }

    fn mac(&self, slot: u64) -> [u8; 16] {
        let tag = self.keyed(slot).finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag[..16]);
        out
    }

    pub(crate) fn fresh(&self, now: u64) -> String {
        let slot = now / self.window;
        let mut raw = [0u8; 24];
        raw[..8].copy_from_slice(&slot.to_be_bytes());
        raw[8..].copy_from_slice(&self.mac(slot));
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub(crate) fn valid(&self, nonce: &str, now: u64) -> bool {
        let mut raw = [0u8; 24];
        match URL_SAFE_NO_PAD.decode_slice(nonce, &mut raw) {
            Ok(24) => {}
            _ => return false,
        }
        let mut slot = [0u8; 8];
        slot.copy_from_slice(&raw[..8]);
        let slot = u64::from_be_bytes(slot);
        let current = now / self.window;
        if slot != current && slot.saturating_add(1) != current {
            return false;
        }
        // Constant-time comparison of the tag.
        self.keyed(slot).verify_truncated_left(&raw[8..]).is_ok()
    }
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl NonceStore for Nonces {
    fn issue(&self, now: u64) -> String {
        self.fresh(now)
    }

    fn check(&self, nonce: &str, now: u64) -> bool {
        self.valid(nonce, now)
    }
}
