//! Mint a development token and the JWKS that verifies it, for trying the reference server
//! or load-testing it. The keys are the fixed development keys of `tower_bearer::testing`:
//! never trust them outside tests.
//!
//! ```text
//! cargo run --example mint_token -- --jwks /tmp/jwks.json users:read users.profile:read
//! RS_ISSUER=https://issuer.test RS_AUDIENCE=https://api.test RS_JWKS_FILE=/tmp/jwks.json \
//!     cargo run --example resource_server
//! ```
//! Prints the token (ES256, valid for one hour) on stdout; `--alg RS256` picks another
//! algorithm.

use tower_bearer::testing::TestIssuer;
use tower_bearer::Algorithm;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut jwks_path = None;
    let mut alg = Algorithm::ES256;
    let mut scopes = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--jwks" => jwks_path = Some(args.next().ok_or("--jwks needs a path")?),
            "--alg" => alg = args.next().ok_or("--alg needs a name")?.parse()?,
            scope => scopes.push(scope.to_owned()),
        }
    }
    let issuer = TestIssuer::with_algorithm(alg);
    if let Some(path) = jwks_path {
        std::fs::write(&path, issuer.jwks())?;
        eprintln!("wrote the JWKS to {path}");
    }
    println!("{}", issuer.token().scopes(&scopes).sign());
    Ok(())
}
