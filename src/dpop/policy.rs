//! A DPoP policy's settings and state, shared by its clones.

use super::DpopMode;
use crate::keys::Algorithm;
use crate::reject::DpopChallenge;
use crate::store::{NonceStore, ReplayStore};

use std::sync::Arc;

pub(crate) struct Policy {
    pub(crate) mode: DpopMode,
    pub(crate) algs: Vec<Algorithm>,
    pub(crate) challenge: DpopChallenge,
    pub(crate) base_url: Option<String>,
    pub(crate) default_scheme: &'static str,
    pub(crate) lifetime: u64,
    pub(crate) leeway: u64,
    pub(crate) nonce: Option<Arc<dyn NonceStore>>,
    pub(crate) replay: Arc<dyn ReplayStore>,
}
