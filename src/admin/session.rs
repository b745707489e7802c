//! Signing in and out, and the [`Session`] every page takes: a page without one sends the
//! browser to sign in; a form whose CSRF token is not its session's is refused with 403.

use std::net::{IpAddr, Ipv4Addr};

use askama::Template;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::serve::IncomingStream;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use super::auth::{self, SESSION_COOKIE, SIGN_IN_COOKIE};
use super::tls::TlsListener;
use super::view;
use super::{Admin, Shared};
use crate::source::problem::hide_identity_numbers;
use crate::store::admin::SessionRow;

/// The address a request came from (the proxy's, behind a reverse proxy).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub IpAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(stream.remote_addr().ip())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Peer {
        Peer(stream.remote_addr().ip())
    }
}

pub fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<Peer>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |info| info.0.0)
}

/// A signed-in user, for one request.
pub struct Session {
    pub user: String,
    pub csrf: String,
    pub address: IpAddr,
    token_hash: String,
}

impl Session {
    /// `Err(403)` unless `token` is this session's CSRF token.
    pub fn check(&self, token: &str) -> Result<(), Response> {
        if auth::same_token(token, &self.csrf) {
            Ok(())
        } else {
            tracing::warn!(
                user = %self.user,
                address = %self.address,
                "a form came without its CSRF token: refused"
            );
            Err(view::error(
                StatusCode::FORBIDDEN,
                "The form was refused",
                "The form did not carry this session's token, so it may not have come from this page. Open the page again and repeat what you did.",
            ))
        }
    }

    /// Records what this user did, with when and from where.
    pub async fn audit(&self, admin: &Admin, action: &str, detail: &str) -> Result<(), Response> {
        admin
            .store()
            .audit(
                admin.clock.now(),
                &self.user,
                &self.address.to_string(),
                action,
                detail,
            )
            .await
            .map_err(|e| view::store_failed(&e))
    }
}

impl FromRequestParts<Shared> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, admin: &Shared) -> Result<Session, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE) else {
            return Err(to_sign_in(admin));
        };
        let token_hash = auth::token_hash(token.value());
        match admin
            .store()
            .live_session(&token_hash, admin.clock.now())
            .await
        {
            // A user taken out of the configuration is signed out at once.
            Ok(Some(row)) if admin.config.admin.users.iter().any(|u| u.name == row.user) => {
                Ok(Session {
                    user: row.user,
                    csrf: row.csrf,
                    address: peer(parts),
                    token_hash,
                })
            }
            Ok(_) => Err(to_sign_in(admin)),
            Err(e) => Err(view::store_failed(&e)),
        }
    }
}

/// Alone: to the sign-in. Behind the deployment's page: to its list of the user's
/// municipalities, which sends to the sign-in whoever is signed in to none.
fn to_sign_in(admin: &Admin) -> Response {
    Redirect::to(if admin.portal { "/" } else { "/sign-in" }).into_response()
}

fn cookie(admin: &Admin, name: &'static str, value: String) -> Cookie<'static> {
    secure_cookie(name, value, admin.config.admin.over_tls())
}

/// A cookie only this site's pages send back, never to script, and over TLS only when the
/// page is served over TLS.
pub fn secure_cookie(name: &'static str, value: String, over_tls: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(over_tls)
        .build()
}

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage<'a> {
    municipality: &'a str,
    municipality_name: &'a str,
    csrf: &'a str,
    user: &'a str,
    problem: &'a str,
}

/// Who the sign-in page is for: a municipality alone, or the deployment's municipalities.
pub struct SignInFor<'a> {
    pub municipality: &'a str,
    pub municipality_name: &'a str,
    pub over_tls: bool,
}

/// The sign-in form with a fresh token in its own cookie; `problem` says why it is shown again.
pub fn sign_in_form(
    to: &SignInFor,
    jar: CookieJar,
    status: StatusCode,
    user: &str,
    problem: &str,
) -> Response {
    let csrf = auth::token();
    let page = SignInPage {
        municipality: to.municipality,
        municipality_name: to.municipality_name,
        csrf: &csrf,
        user,
        problem,
    };
    let jar = jar.add(secure_cookie(SIGN_IN_COOKIE, csrf.clone(), to.over_tls));
    (status, jar, view::page(&page)).into_response()
}

fn sign_in_for(admin: &Admin) -> SignInFor<'_> {
    SignInFor {
        municipality: &admin.config.municipality,
        municipality_name: &admin.config.municipality_name,
        over_tls: admin.config.admin.over_tls(),
    }
}

/// 403 unless the sign-in form carried the token its page set in the sign-in cookie.
pub fn sign_in_token_refused(jar: &CookieJar, csrf: &str) -> Option<Response> {
    let expected = jar.get(SIGN_IN_COOKIE).map(|c| c.value().to_string());
    if expected.is_some_and(|token| auth::same_token(csrf, &token)) {
        return None;
    }
    Some(view::error(
        StatusCode::FORBIDDEN,
        "The sign-in was refused",
        "The sign-in form did not carry its token. Open the sign-in page again and sign in from there.",
    ))
}

/// The sign-in form again, 429 with Retry-After, while the throttle holds the user back.
pub fn throttled(
    to: &SignInFor,
    jar: CookieJar,
    user: &str,
    address: IpAddr,
    wait: i64,
) -> Response {
    // Not written to the audit log: attempts while waiting cost nothing to make, and would
    // fill it; the failures that led here are there.
    tracing::warn!(user = %user, address = %address, "a sign-in refused: waiting after failures in a row");
    let mut response = sign_in_form(
        to,
        jar,
        StatusCode::TOO_MANY_REQUESTS,
        user,
        &format!(
            "Too many failed sign-ins in a row for this user from this address. Wait {wait} seconds and try again; ask a colleague with access to check your password if it keeps failing."
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    response
}

/// Records a refused sign-in in the audit log.
pub async fn record_refused_sign_in(
    store: &crate::store::Store,
    user: &str,
    address: IpAddr,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::store::StoreError> {
    store
        .audit(
            now,
            user,
            &address.to_string(),
            "sign-in refused",
            "wrong user name or password",
        )
        .await
}

/// Records a session (by its token's hash) and its sign-in in the audit log.
pub async fn record_sign_in(
    store: &crate::store::Store,
    token: &str,
    session: &SessionRow,
    address: IpAddr,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::store::StoreError> {
    let address = address.to_string();
    store
        .create_session(&auth::token_hash(token), session, &address, now)
        .await?;
    store
        .audit(now, &session.user, &address, "signed in", "")
        .await
}

pub async fn sign_in_page(State(admin): State<Shared>, jar: CookieJar) -> Response {
    sign_in_form(&sign_in_for(&admin), jar, StatusCode::OK, "", "")
}

/// The sign-in form, here and on the deployment's page.
#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    pub(super) user: String,
    #[serde(default)]
    pub(super) password: String,
    #[serde(default)]
    pub(super) csrf: String,
}

pub async fn sign_in(
    State(admin): State<Shared>,
    ConnectInfo(Peer(address)): ConnectInfo<Peer>,
    jar: CookieJar,
    axum::Form(form): axum::Form<SignIn>,
) -> Response {
    if let Some(refused) = sign_in_token_refused(&jar, &form.csrf) {
        return refused;
    }
    // Someone may type their identity number as the user name: it is masked wherever the
    // name is written down (the configuration refuses a user name that looks like one).
    let user = hide_identity_numbers(form.user.trim());
    let now = admin.clock.now();
    let store = admin.store();
    if let Some(wait) = admin.throttle.wait(&user, address, now) {
        return throttled(&sign_in_for(&admin), jar, &user, address, wait);
    }
    let users = admin.config.admin.users.clone();
    let (name, password) = (user.clone(), form.password);
    let verified = tokio::task::spawn_blocking(move || auth::verify(&users, &name, &password))
        .await
        .unwrap_or(false);
    if !verified {
        admin.throttle.failed(&user, address, now);
        tracing::warn!(user = %user, address = %address, "a sign-in to the administration page failed");
        if let Err(e) = record_refused_sign_in(store, &user, address, now).await {
            return view::store_failed(&e);
        }
        return sign_in_form(
            &sign_in_for(&admin),
            jar,
            StatusCode::UNAUTHORIZED,
            &user,
            "Wrong user name or password.",
        );
    }
    admin.throttle.succeeded(&user, address);
    let token = auth::token();
    let session = SessionRow {
        user: user.clone(),
        csrf: auth::token(),
        expires_at: now
            + chrono::Duration::from_std(admin.config.admin.session)
                .unwrap_or(chrono::Duration::hours(8)),
    };
    if let Err(e) = record_sign_in(store, &token, &session, address, now).await {
        return view::store_failed(&e);
    }
    tracing::info!(user = %user, address = %address, "signed in to the administration page");
    let jar = jar
        .remove(Cookie::build(SIGN_IN_COOKIE).path("/"))
        .add(cookie(&admin, SESSION_COOKIE, token));
    (jar, Redirect::to("/")).into_response()
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub(super) csrf: String,
}

pub async fn sign_out(
    State(admin): State<Shared>,
    session: Session,
    jar: CookieJar,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Response {
    if let Err(refused) = session.check(&form.csrf) {
        return refused;
    }
    if let Err(e) = admin
        .store()
        .end_session(&session.token_hash, admin.clock.now())
        .await
    {
        return view::store_failed(&e);
    }
    if let Err(response) = session.audit(&admin, "signed out", "").await {
        return response;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, Redirect::to("/sign-in")).into_response()
}
