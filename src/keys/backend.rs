//! The crypto backend this crate verifies with, independent of jsonwebtoken's process default.

use jsonwebtoken::crypto::CryptoProvider;

/// The backend this crate verifies with, independent of jsonwebtoken's process default.
#[cfg_attr(all(feature = "aws-lc-rs", not(feature = "testing")), allow(dead_code))]
pub(crate) fn provider() -> &'static CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    {
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
    }
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    {
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
    }
}
