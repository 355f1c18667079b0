//! `exp`, `nbf` and `iat` (RFC 7519 §4.1.4–6) against the clock, with the leeway.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::claims::registered::Registered;
use crate::error::TokenError;

/// The largest NumericDate accepted: 9999-12-31T23:59:59Z.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// Seconds since the Unix epoch.
pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A NumericDate is a finite JSON number between the epoch and the year 9999.
pub(crate) fn numeric_date(v: f64, name: &'static str) -> Result<(), TokenError> {
    if v.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&v) {
        Ok(())
    } else {
        Err(TokenError::InvalidClaim(name))
    }
}

/// When the time claims are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Times {
    /// First sight of a JWT's claims: `exp` required, every date a valid NumericDate.
    Jwt,
    /// An introspection answer: `exp` optional, every date present a valid NumericDate.
    Answer,
    /// Claims that passed [`Times::Jwt`] or [`Times::Answer`] before (a cache hit): only the
    /// clock can have changed the answer.
    Again,
}

/// `exp` not past, `nbf` not ahead, `iat` not in the future, each beyond `leeway` seconds;
/// `exp` present and every date a valid NumericDate, as `times` says.
#[inline]
pub(crate) fn check(c: &Registered, now: f64, leeway: f64, times: Times) -> Result<(), TokenError> {
    let dates = times != Times::Again;
    let numeric = |v: f64, name: &'static str| {
        if dates {
            numeric_date(v, name)
        } else {
            Ok(())
        }
    };
    match c.exp {
        Some(exp) => {
            numeric(exp, "exp")?;
            if now - leeway >= exp {
                return Err(TokenError::Expired);
            }
        }
        None if times == Times::Jwt => return Err(TokenError::MissingClaim("exp")),
        None => {}
    }
    if let Some(nbf) = c.nbf {
        numeric(nbf, "nbf")?;
        if now + leeway < nbf {
            return Err(TokenError::NotYetValid);
        }
    }
    if let Some(iat) = c.iat {
        numeric(iat, "iat")?;
        if iat > now + leeway {
            return Err(TokenError::IssuedInFuture);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: Option<f64>, nbf: Option<f64>, iat: Option<f64>) -> Registered {
        Registered {
            exp,
            nbf,
            iat,
            ..Registered::default()
        }
    }

    /// The boundaries to the second (the clock's fractions of a second make them unreachable
    /// through a validator): a token is expired at `exp + leeway`, valid from
    /// `nbf - leeway`, and may be issued up to `leeway` ahead.
    #[test]
    fn each_time_claim_at_its_exact_boundary() {
        let (now, leeway) = (1_000_000.0, 30.0);
        for times in [Times::Jwt, Times::Answer, Times::Again] {
            let at = |exp, nbf, iat| check(&claims(Some(exp), nbf, iat), now, leeway, times);
            let exp = now + 3600.0;
            assert_eq!(at(now - leeway, None, None), Err(TokenError::Expired));
            assert_eq!(at(now - leeway + 1.0, None, None), Ok(()));
            assert_eq!(at(exp, Some(now + leeway), None), Ok(()));
            assert_eq!(
                at(exp, Some(now + leeway + 1.0), None),
                Err(TokenError::NotYetValid)
            );
            assert_eq!(at(exp, None, Some(now + leeway)), Ok(()));
            assert_eq!(
                at(exp, None, Some(now + leeway + 1.0)),
                Err(TokenError::IssuedInFuture)
            );
        }
    }
}
