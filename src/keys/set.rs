//! Keys indexed by id, and the choice of the one key that verifies a token.

use std::sync::Arc;

use super::algorithm::Algorithm;
use super::key::Key;
use crate::error::{ConfigError, TokenError};

/// Keys indexed for lookup by `kid`.
#[derive(Debug, Default, Clone)]
pub(crate) struct KeySet {
    /// Keys with an id, sorted by it: key sets are small, and a binary search over a few
    /// ids is cheaper than hashing the token's `kid`.
    by_kid: Vec<(Arc<str>, Key)>,
    /// Keys configured without a key id.
    anonymous: Vec<Key>,
}

impl KeySet {
    pub(crate) fn new(keys: Vec<Key>) -> Result<Self, ConfigError> {
        let mut set = Self::default();
        for key in keys {
            match &key.kid {
                Some(kid) => set.by_kid.push((kid.clone(), key)),
                None => set.anonymous.push(key),
            }
        }
        set.by_kid.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = set.by_kid.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ConfigError::DuplicateKeyId(pair[0].0.to_string()));
        }
        Ok(set)
    }

    fn by_kid(&self, kid: &str) -> Option<&Key> {
        self.by_kid
            .binary_search_by(|(k, _)| k.as_bytes().cmp(kid.as_bytes()))
            .ok()
            .map(|i| &self.by_kid[i].1)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_kid.is_empty() && self.anonymous.is_empty()
    }

    /// The key for a token: by `kid` when it names one we have; otherwise the one key
    /// without an id that verifies `alg`. Never more than one candidate, so a token costs at
    /// most one signature check.
    ///
    /// A `kid` the set lacks is an unknown key (a remote set is refetched) whenever the set
    /// names any of its keys; only a set of anonymous keys alone, whose ids a token cannot
    /// match anyway, falls back to its one key for `alg`.
    pub(crate) fn select(&self, kid: Option<&str>, alg: Algorithm) -> Result<&Key, TokenError> {
        if let Some(kid) = kid {
            if let Some(key) = self.by_kid(kid) {
                return if key.alg == alg {
                    Ok(key)
                } else {
                    Err(TokenError::AlgorithmMismatch)
                };
            }
            if !self.by_kid.is_empty() {
                return Err(TokenError::UnknownKey);
            }
        }
        let mut fitting = self.anonymous.iter().filter(|k| k.alg == alg);
        match (fitting.next(), fitting.next()) {
            (Some(key), None) => Ok(key),
            (Some(_), Some(_)) => Err(TokenError::UnknownKey),
            (None, _) => {
                if kid.is_none() && self.by_kid.len() == 1 && self.anonymous.is_empty() {
                    // A single key with an id, and a token without one: unambiguous.
                    let key = self
                        .by_kid
                        .first()
                        .map(|(_, k)| k)
                        .ok_or(TokenError::UnknownKey)?;
                    return if key.alg == alg {
                        Ok(key)
                    } else {
                        Err(TokenError::AlgorithmMismatch)
                    };
                }
                if self.anonymous.is_empty() || kid.is_some() {
                    Err(TokenError::UnknownKey)
                } else {
                    Err(TokenError::AlgorithmMismatch)
                }
            }
        }
    }
}
