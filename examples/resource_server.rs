//! The reference resource server: point it at your authorization server.
//!
//! ```text
//! RS_ISSUER=https://auth.example.com RS_AUDIENCE=https://api.example.com \
//! RS_JWKS_FILE=jwks.json cargo run --example resource_server
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `RS_BIND` | listen address (default `127.0.0.1:3000`; `127.0.0.1:0` picks a port) |
//! | `RS_ISSUER` | expected `iss` (required); with `{tenantid}` in it, a multi-tenant issuer template filled from the token's `tid` |
//! | `RS_TENANTS` | with `{tenantid}` in `RS_ISSUER` (required then): the allowed tenant ids, comma-separated, or `*` for any |
//! | `RS_AUDIENCE` | expected `aud` (required) |
//! | `RS_JWKS_FILE` | path to a JWKS JSON document (static keys) |
//! | `RS_JWKS_URL` | a JWKS endpoint, fetched and cached |
//! | `RS_ALLOW_HTTP` | `1` permits plain-http key sources (loopback tests); otherwise https only |
//! | `RS_KEY_COOLDOWN` | seconds between refetches caused by unknown `kid`s (default 30) |
//! | `RS_SCOPE_DELIMITER` | delimiter of string scope claims (default: space) |
//! | `RS_SCOPE_CLAIMS` | comma-separated claim paths read for scopes, replacing `scope,scp` (`scope,permissions`, `resource_access.my-api.roles`) |
//! | `RS_AUDIENCE_CLAIM` | `client_id`: compare `RS_AUDIENCE` with `client_id` instead of `aud` (Amazon Cognito) |
//! | `RS_REALM` | `realm` of the challenges (default: none) |
//! | `RS_TOKEN_CACHE` | entries of the verified-token cache (unset or 0: off) |
//! | `RS_INTROSPECTION_URL` | an RFC 7662 endpoint: opaque tokens are introspected there (JWTs still verified locally) |
//! | `RS_CLIENT_ID`, `RS_CLIENT_SECRET` | this server's credentials at the introspection endpoint (`client_secret_basic`) |
//! | `RS_DPOP` | `off` (default), `allowed` or `required`: DPoP-bound tokens (RFC 9449) |
//! | `RS_PUBLIC_URL` | the base URL clients use (DPoP proofs sign it); default `http://` + the `Host` header |
//! | `RS_RESOURCE` | this resource's identifier: serves RFC 9728 metadata at its well-known path and names it in every challenge |
//! | `RS_REDIS_URL` | `redis://…`: the DPoP replay cache and introspection answers on Redis, shared by every instance |
//! | `RS_TOKEN_COOKIE` | also take the token from this cookie (cross-site rule: see `RS_ALLOWED_ORIGINS`) |
//! | `RS_TOKEN_HEADER` | also take the raw token from this header (`x-api-token`) |
//! | `RS_ALLOWED_ORIGINS` | comma-separated origins allowed to send cookie-borne tokens on unsafe methods and WebSocket upgrades |
//! | `RS_CLIENT_CERT_HEADER` | certificate-bound tokens (RFC 8705): the client certificate comes in this header (RFC 9440 `Client-Cert`), believed only from `RS_TRUSTED_PROXIES` |
//! | `RS_TRUSTED_PROXIES` | comma-separated peer IPs whose certificate header is believed (default `127.0.0.1,::1`); from any other peer the header is a 400 |
//! | `RS_ACR_VALUES` | step-up for `GET /transfer`: comma-separated allowed `acr` values (default `urn:example:mfa`) |
//! | `RS_MAX_AGE` | step-up for `GET /transfer`: the allowed age of `auth_time` in seconds (default 300) |
//!
//! With neither `RS_JWKS_FILE` nor `RS_JWKS_URL`, keys are discovered from `RS_ISSUER`
//! (OpenID Connect metadata, then RFC 8414). An unreachable issuer is not a configuration
//! error: the server starts, answers 503 with `Retry-After` until keys load, then serves.
//!
//! Once it accepts connections it prints `listening on http://ADDR` on stdout. Logs go to
//! stderr. A bad configuration exits with status 2 and one line on stderr.
//!
//! | route | needs |
//! |---|---|
//! | `GET /health` | nothing |
//! | `GET /metrics` | nothing: Prometheus text (requests by outcome, token errors by reason, key fetches, cache, introspection, DPoP replays, decision time) |
//! | `GET /me` | any valid token |
//! | `GET /users` | `users:read` |
//! | `GET /users/profile` | `users:read` and `users.profile:read` |
//! | `POST /users` | `users:write` |
//! | `GET /accounts` | `accounts:read` or `accounts:write` |
//! | `GET /transfer` | `accounts:write`, then step-up (RFC 9470): `acr` and `auth_time` |
//! | `GET /ws` | `users:read`; a WebSocket that echoes text frames and closes when the token expires |
//! | `GET /openapi.json` | nothing: OpenAPI 3.1, each operation's `security` from the guard on it |
//!
//! Each route is declared once, in `routes()`, with the guard that enforces it: the router
//! and `/openapi.json` are both built from that table. The document's `oauth2` scheme offers
//! the client credentials flow at the token endpoint that discovery found (with neither
//! `RS_JWKS_FILE` nor `RS_JWKS_URL`; `503` until the discovery document has been read), else
//! at `RS_ISSUER` + `/token`; an `http` bearer scheme (JWT) is offered too.

use std::io::Write;
use std::net::SocketAddr;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::ConnectInfo;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{json, Value};
use tower_bearer::dpop::Dpop;
use tower_bearer::introspect::Introspection;
use tower_bearer::metadata::ResourceMetadata;
use tower_bearer::mtls::ClientCertificates;
use tower_bearer::openapi::{OpenApiSecurity, SecuritySchemes};
use tower_bearer::remote::RemoteOptions;
use tower_bearer::store::redis::RedisStore;
use tower_bearer::{
    BearerLayer, RequireScopeLayer, ScopeClaims, ScopeGuard, ScopeRequirement, Scopes, TokenClaims,
    TokenSources, Validator,
};

struct Config {
    bind: SocketAddr,
    validator: Validator,
    realm: Option<String>,
    issuer: String,
    resource: Option<String>,
    dpop: Option<Dpop>,
    sources: TokenSources,
    transfer: ScopeGuard,
    certificates: Option<ClientCertificates>,
    /// Keys come from discovery: the token endpoint too.
    discovery: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn config() -> Result<Config, String> {
    let bind = var("RS_BIND").unwrap_or_else(|| "127.0.0.1:3000".into());
    let bind: SocketAddr = bind
        .parse()
        .map_err(|_| format!("RS_BIND={bind:?} is not an address like 127.0.0.1:3000"))?;
    let issuer = var("RS_ISSUER").ok_or("RS_ISSUER is required (the expected `iss`)")?;
    let audience = var("RS_AUDIENCE").ok_or("RS_AUDIENCE is required (the expected `aud`)")?;
    let mut builder = Validator::builder().audience(audience);
    if issuer.contains("{tenantid}") {
        // A multi-tenant issuer (Entra ID): filled from each token's `tid`.
        builder = builder.issuer_template(issuer.clone());
        builder = match var("RS_TENANTS").as_deref() {
            None => {
                return Err(
                    "RS_ISSUER has {tenantid}: RS_TENANTS is required (comma-separated tenant ids, or * for any)"
                        .into(),
                )
            }
            Some("*") => builder.any_tenant(),
            Some(list) => builder.tenants(list.split(',').map(str::trim).filter(|t| !t.is_empty())),
        };
    } else {
        builder = builder.issuer(issuer.clone());
    }

    let mut scope_claims = match var("RS_SCOPE_CLAIMS") {
        Some(paths) => {
            let paths: Vec<&str> = paths.split(',').map(str::trim).collect();
            if paths.iter().any(|p| p.is_empty()) {
                return Err(format!(
                    "RS_SCOPE_CLAIMS={paths:?} must be comma-separated claim paths"
                ));
            }
            ScopeClaims::paths(paths)
        }
        None => ScopeClaims::standard(),
    };
    if let Some(delimiter) = var("RS_SCOPE_DELIMITER") {
        let mut chars = delimiter.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(format!(
                "RS_SCOPE_DELIMITER={delimiter:?} must be a single character"
            ));
        };
        scope_claims = scope_claims.delimiter(c);
    }
    builder = builder.scope_claims(scope_claims);
    match var("RS_AUDIENCE_CLAIM").as_deref() {
        None | Some("aud") => {}
        Some("client_id") => builder = builder.audience_from_client_id(),
        Some(other) => {
            return Err(format!(
                "RS_AUDIENCE_CLAIM={other:?} must be aud or client_id"
            ))
        }
    }

    if let Some(entries) = var("RS_TOKEN_CACHE") {
        let entries: usize = entries.parse().map_err(|_| {
            format!("RS_TOKEN_CACHE={entries:?} must be a number of entries (0: off)")
        })?;
        builder = builder.token_cache(entries);
    }
    let allow_http = match var("RS_ALLOW_HTTP").as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => return Err(format!("RS_ALLOW_HTTP={other:?} must be 0 or 1")),
    };
    let mut remote = RemoteOptions::new().allow_http(allow_http);
    if let Some(secs) = var("RS_KEY_COOLDOWN") {
        let secs: u64 = secs
            .parse()
            .map_err(|_| format!("RS_KEY_COOLDOWN={secs:?} must be a number of seconds"))?;
        remote = remote.cooldown(std::time::Duration::from_secs(secs));
    }
    builder = builder.remote_options(remote);
    let discovery = var("RS_JWKS_FILE").is_none() && var("RS_JWKS_URL").is_none();
    match (var("RS_JWKS_FILE"), var("RS_JWKS_URL")) {
        (Some(_), Some(_)) => return Err("set RS_JWKS_FILE or RS_JWKS_URL, not both".into()),
        (Some(path), None) => {
            let json = std::fs::read_to_string(&path)
                .map_err(|e| format!("RS_JWKS_FILE={path:?} cannot be read: {e}"))?;
            builder = builder.jwks_json(&json);
        }
        (None, Some(url)) => builder = builder.jwks_url(url),
        (None, None) => builder = builder.discover(),
    }
    // Shared state for every instance of this server: DPoP replays, nonces, introspection.
    let redis = match var("RS_REDIS_URL") {
        Some(url) => Some(
            RedisStore::builder(url)
                .connect()
                .await
                .map_err(|e| format!("RS_REDIS_URL: {e}"))?,
        ),
        None => None,
    };
    if let Some(url) = var("RS_INTROSPECTION_URL") {
        let id = var("RS_CLIENT_ID").ok_or("RS_INTROSPECTION_URL needs RS_CLIENT_ID")?;
        let secret =
            var("RS_CLIENT_SECRET").ok_or("RS_INTROSPECTION_URL needs RS_CLIENT_SECRET")?;
        let mut introspection = Introspection::builder(id, secret)
            .endpoint(url)
            .remote_options(RemoteOptions::new().allow_http(allow_http));
        if let Some(redis) = &redis {
            let key = redis
                .shared_key("introspection")
                .await
                .map_err(|e| format!("RS_REDIS_URL: {e}"))?;
            introspection = introspection.answer_store(redis.answer_store(), key);
        }
        let introspection = introspection
            .build()
            .map_err(|e| format!("RS_INTROSPECTION_URL: {e}"))?;
        builder = builder.introspection(introspection);
    }
    let validator = builder.build().map_err(|e| e.to_string())?;
    let dpop = match var("RS_DPOP").as_deref() {
        None | Some("off") => None,
        Some(mode @ ("allowed" | "required")) => {
            let mut dpop = if mode == "allowed" {
                Dpop::allowed()
            } else {
                Dpop::required()
            };
            dpop = match var("RS_PUBLIC_URL") {
                Some(url) => dpop.public_base_url(url),
                None => dpop.plain_http(),
            };
            if let Some(redis) = &redis {
                let replays = redis
                    .replay_store()
                    .map_err(|e| format!("RS_REDIS_URL: {e}"))?;
                // The server asks for no nonces; with `require_nonce()`, share their key too:
                // `.nonce_key(redis.shared_key("dpop-nonce").await?)`.
                dpop = dpop.replay_store(replays);
            }
            Some(dpop.build().map_err(|e| format!("RS_DPOP: {e}"))?)
        }
        Some(other) => {
            return Err(format!(
                "RS_DPOP={other:?} must be off, allowed or required"
            ))
        }
    };
    let mut sources = TokenSources::authorization_header();
    if let Some(name) = var("RS_TOKEN_COOKIE") {
        sources = sources
            .try_cookie(&name)
            .map_err(|e| format!("RS_TOKEN_COOKIE: {e}"))?;
    }
    if let Some(name) = var("RS_TOKEN_HEADER") {
        sources = sources
            .try_header(&name)
            .map_err(|e| format!("RS_TOKEN_HEADER: {e}"))?;
    }
    if let Some(origins) = var("RS_ALLOWED_ORIGINS") {
        sources = sources
            .try_allowed_origins(origins.split(',').map(str::trim).filter(|o| !o.is_empty()))
            .map_err(|e| format!("RS_ALLOWED_ORIGINS: {e}"))?;
    }
    let certificates = match var("RS_CLIENT_CERT_HEADER") {
        Some(name) => {
            let mut certificates = ClientCertificates::from_header(&name)
                .map_err(|e| format!("RS_CLIENT_CERT_HEADER: {e}"))?
                .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
            if let Some(list) = var("RS_TRUSTED_PROXIES") {
                let proxies = list
                    .split(',')
                    .map(|ip| ip.trim().parse())
                    .collect::<Result<Vec<std::net::IpAddr>, _>>()
                    .map_err(|_| {
                        format!("RS_TRUSTED_PROXIES={list:?} must be comma-separated IP addresses")
                    })?;
                certificates = certificates.trusted_proxies(proxies);
            }
            Some(certificates)
        }
        None if var("RS_TRUSTED_PROXIES").is_some() => {
            return Err("RS_TRUSTED_PROXIES needs RS_CLIENT_CERT_HEADER".into())
        }
        None => None,
    };
    let acr = var("RS_ACR_VALUES").unwrap_or_else(|| "urn:example:mfa".into());
    let max_age = match var("RS_MAX_AGE") {
        None => 300,
        Some(secs) => secs
            .parse()
            .map_err(|_| format!("RS_MAX_AGE={secs:?} must be a number of seconds"))?,
    };
    let transfer = ScopeGuard::new(ScopeRequirement::all(["accounts:write"]))
        .try_acr_values(acr.split(',').map(str::trim).filter(|a| !a.is_empty()))
        .map_err(|e| format!("RS_ACR_VALUES: {e}"))?
        .max_age(std::time::Duration::from_secs(max_age));
    Ok(Config {
        bind,
        validator,
        realm: var("RS_REALM"),
        issuer,
        resource: var("RS_RESOURCE"),
        dpop,
        sources,
        transfer,
        certificates,
        discovery,
    })
}

async fn me(claims: TokenClaims, scopes: Scopes) -> Json<Value> {
    Json(json!({ "sub": claims.subject(), "scopes": scopes.iter().collect::<Vec<_>>() }))
}

/// Echo text frames until the client leaves or the token expires.
async fn echo(mut socket: WebSocket, claims: TokenClaims) {
    let expiry = claims.expiry();
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            () = &mut expiry => {
                let frame = CloseFrame { code: close_code::POLICY, reason: "token expired".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                break;
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
}

async fn ws(upgrade: WebSocketUpgrade, claims: TokenClaims) -> Response {
    upgrade.on_upgrade(move |socket| echo(socket, claims))
}

/// Who may call a route.
#[derive(Clone)]
enum Access {
    /// Anyone: outside the bearer layer.
    Public,
    /// Any valid token.
    Authenticated,
    /// A valid token meeting this guard.
    Guard(RequireScopeLayer),
}

/// One row of the route table.
struct Route {
    method: Method,
    path: &'static str,
    summary: &'static str,
    /// The success status.
    ok: u16,
    access: Access,
    handler: MethodRouter,
}

/// The route table: the router and `/openapi.json` are both built from it, so the guard on a
/// route and its documented `security` are one value.
fn routes(config: &Config, metrics: PrometheusHandle) -> Vec<Route> {
    use Access::{Authenticated, Guard, Public};
    let (get_, post_) = (Method::GET, Method::POST);
    let row = |method: &Method, path, summary, access, handler| Route {
        method: method.clone(),
        path,
        summary,
        ok: if *method == Method::POST { 201 } else { 200 },
        access,
        handler,
    };
    let ok = |route: &'static str| get(move || async move { Json(json!({ "route": route })) });
    let users_read = Guard(RequireScopeLayer::all(["users:read"]));
    let profile = Guard(RequireScopeLayer::all(["users:read", "users.profile:read"]));
    let accounts = Guard(RequireScopeLayer::any(["accounts:read", "accounts:write"]));
    let transfer = Guard(RequireScopeLayer::from_guard(config.transfer.clone()));
    let create_user = axum::routing::post(|| async {
        (StatusCode::CREATED, Json(json!({ "route": "create user" })))
    });
    let health = get(|| async { Json(json!({ "status": "ok" })) });
    let metrics = get(move || {
        let text = metrics.render();
        async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text) }
    });
    let users_write = Guard(RequireScopeLayer::all(["users:write"]));
    let step_up = "A transfer; also needs step-up (RFC 9470: acr, auth_time)";
    #[rustfmt::skip]
    let table = vec![
        row(&get_,  "/health",        "Liveness",                       Public,             health),
        row(&get_,  "/metrics",       "Prometheus metrics",             Public,             metrics),
        row(&get_,  "/me",            "The token's subject and scopes", Authenticated,      get(me)),
        row(&get_,  "/users",         "List users",                     users_read.clone(), ok("list users")),
        row(&post_, "/users",         "Create a user",                  users_write,        create_user),
        row(&get_,  "/users/profile", "User profiles",                  profile,            ok("user profiles")),
        row(&get_,  "/accounts",      "Accounts",                       accounts,           ok("accounts")),
        row(&get_,  "/transfer",      step_up,                          transfer,           ok("transfer")),
        Route { ok: 101, ..row(&get_, "/ws", "A WebSocket echoing text frames", users_read, get(ws)) },
    ];
    table
}

/// `GET /openapi.json`: OpenAPI 3.1 for the table, with the current token endpoint.
struct ApiDoc {
    /// Every row's method, path, summary, success status and access.
    routes: Vec<(Method, &'static str, &'static str, u16, Access)>,
    issuer: String,
    validator: Validator,
    discovery: bool,
}

impl ApiDoc {
    /// The document, or the status and reason it cannot be served now.
    fn document(&self) -> Result<String, (StatusCode, String)> {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder};
        use utoipa::openapi::{Info, OpenApi, Paths, ResponseBuilder};

        let schemes = SecuritySchemes::new().bearer_jwt();
        let schemes = if self.discovery {
            let Some(endpoints) = self.validator.discovered_endpoints() else {
                let reason = "the token endpoint is not known yet (discovery)";
                return Err((StatusCode::SERVICE_UNAVAILABLE, reason.into()));
            };
            match endpoints.token_endpoint() {
                Some(token_url) => schemes.client_credentials(token_url),
                // No token endpoint in the issuer's metadata: the bearer scheme alone.
                None => schemes,
            }
        } else {
            schemes.client_credentials(format!("{}/token", self.issuer.trim_end_matches('/')))
        };
        let mut security = OpenApiSecurity::new(schemes).public(Method::GET, "/openapi.json");
        let mut paths = Paths::new();
        let response = |text: &str| ResponseBuilder::new().description(text).build();
        let mut add = |method: &Method, path: &str, summary: &str, ok: u16, access: &Access| {
            let mut op = OperationBuilder::new()
                .summary(Some(summary))
                .response(ok.to_string(), response("Success"));
            if !matches!(access, Access::Public) {
                op = op.response("401", response("No valid token (RFC 6750)"));
            }
            if matches!(access, Access::Guard(_)) {
                op = op.response("403", response("insufficient_scope"));
            }
            let method = match *method {
                Method::POST => HttpMethod::Post,
                _ => HttpMethod::Get,
            };
            paths.add_path_operation(path, vec![method], op);
        };
        add(
            &Method::GET,
            "/openapi.json",
            "This document",
            200,
            &Access::Public,
        );
        for (method, path, summary, ok, access) in &self.routes {
            add(method, path, summary, *ok, access);
            security = match access {
                Access::Public => security.public(method.clone(), *path),
                Access::Authenticated => security.authenticated(method.clone(), *path),
                Access::Guard(layer) => security.route(method.clone(), *path, layer),
            };
        }
        let mut doc = OpenApi::new(
            Info::new("tower-bearer reference resource server", "1.0.0"),
            paths,
        );
        let failed = |e: &dyn std::fmt::Display| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        security.apply(&mut doc).map_err(|e| failed(&e))?;
        doc.to_json().map_err(|e| failed(&e))
    }
}

async fn openapi_json(doc: std::sync::Arc<ApiDoc>) -> Response {
    match doc.document() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err((status, reason)) => {
            if status == StatusCode::SERVICE_UNAVAILABLE {
                let body =
                    json!({ "error": "temporarily_unavailable", "error_description": reason });
                (status, [(header::RETRY_AFTER, "1")], Json(body)).into_response()
            } else {
                eprintln!("resource_server: /openapi.json: {reason}");
                (status, Json(json!({ "error": "server_error" }))).into_response()
            }
        }
    }
}

fn app(config: &Config, metrics: PrometheusHandle) -> Result<Router, String> {
    let table = routes(config, metrics);
    let mut bearer =
        BearerLayer::new(config.validator.clone()).token_sources(config.sources.clone());
    if let Some(realm) = &config.realm {
        bearer = bearer.realm(realm.clone());
    }
    if let Some(dpop) = &config.dpop {
        bearer = bearer.dpop(dpop.clone());
    }
    if let Some(certificates) = &config.certificates {
        bearer = bearer.client_certificates(certificates.clone());
    }
    let guards = table.iter().filter_map(|r| match &r.access {
        Access::Guard(layer) => Some(layer.guard()),
        _ => None,
    });
    let metadata = match &config.resource {
        Some(resource) => {
            let mut metadata = ResourceMetadata::builder(resource.clone())
                .authorization_server(config.issuer.clone());
            if let Some(dpop) = &config.dpop {
                metadata = metadata.dpop(dpop);
            }
            if config.certificates.is_some() {
                metadata = metadata.tls_client_certificate_bound_access_tokens(true);
            }
            let metadata = metadata
                .scopes_from_guards(guards)
                .build()
                .map_err(|e| format!("RS_RESOURCE: {e}"))?;
            bearer = bearer.resource_metadata(&metadata);
            Some(metadata)
        }
        None => None,
    };
    let doc = std::sync::Arc::new(ApiDoc {
        routes: table
            .iter()
            .map(|r| (r.method.clone(), r.path, r.summary, r.ok, r.access.clone()))
            .collect(),
        issuer: config.issuer.clone(),
        validator: config.validator.clone(),
        discovery: config.discovery,
    });
    let (mut protected, mut public) = (Router::new(), Router::new());
    for route in table {
        match route.access {
            Access::Public => public = public.route(route.path, route.handler),
            Access::Authenticated => protected = protected.route(route.path, route.handler),
            Access::Guard(layer) => {
                protected = protected.route(route.path, route.handler.route_layer(layer));
            }
        }
    }
    let router = protected
        .layer(bearer)
        .merge(public)
        .route("/openapi.json", get(move || openapi_json(doc.clone())));
    Ok(match metadata {
        Some(m) => router.layer(m.layer()),
        None => router,
    })
}

#[tokio::main]
async fn main() {
    let config = match config().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("resource_server: configuration error: {e}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("resource_server: cannot bind {}: {e}", config.bind);
            std::process::exit(2);
        }
    };
    let addr = listener.local_addr().map_or(config.bind, |a| a);
    // Load keys in the background; until then protected routes answer 503.
    let warm = config.validator.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.warm_up().await {
            eprintln!("resource_server: keys not loaded yet ({e}); answering 503 until they are");
        }
    });
    // Metrics through the `metrics` facade, rendered as Prometheus text at /metrics.
    let metrics = match PrometheusBuilder::new().install_recorder() {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("resource_server: cannot install the metrics recorder: {e}");
            std::process::exit(2);
        }
    };
    tower_bearer::metrics::describe();
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = match app(&config, metrics) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("resource_server: configuration error: {e}");
            std::process::exit(2);
        }
    };
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    // The peer address decides whether a client certificate header is believed.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("resource_server: server error: {e}");
        std::process::exit(1);
    }
}
