//! Signing in and out, and the [`Session`] every page takes: a page without one sends the
//! browser to sign in; a form whose CSRF token is not its session's is refused with 403.

use std::net::{IpAddr, Ipv4Addr};

use askama::Template;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
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
use crate::i18n::Language;
use crate::redact::hide_identity_numbers;
use crate::store::admin::SessionRow;
use crate::t;

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
    /// What the user reads the page in: their choice on the page, else the configuration's.
    pub language: Language,
    /// The page asked for, path and query, when it can be asked for again (a GET): where
    /// switching the language leads back to.
    pub here: String,
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
            Err(form_refused(self.language))
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
            .map_err(|e| view::store_failed(self.language, &e))
    }
}

/// 403 for a form without its session's token.
pub fn form_refused(lang: Language) -> Response {
    view::error(
        lang,
        StatusCode::FORBIDDEN,
        &t!(lang, "error-form-refused"),
        &t!(lang, "error-form-refused.text"),
    )
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
                let language = match admin.store().user_language(&row.user).await {
                    Ok(chosen) => chosen
                        .and_then(|code| code.parse().ok())
                        .unwrap_or(admin.config.language),
                    Err(e) => return Err(view::store_failed(admin.config.language, &e)),
                };
                let here = if parts.method == axum::http::Method::GET {
                    parts
                        .uri
                        .path_and_query()
                        .map_or_else(String::new, |p| p.as_str().to_string())
                } else {
                    String::new()
                };
                Ok(Session {
                    user: row.user,
                    csrf: row.csrf,
                    address: peer(parts),
                    language,
                    here,
                    token_hash,
                })
            }
            Ok(_) => Err(to_sign_in(admin)),
            Err(e) => Err(view::store_failed(admin.config.language, &e)),
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
    lang: Language,
    /// The language chosen with the page's link, carried through the form: saved as the
    /// user's choice when they sign in. Empty when none was chosen.
    chosen: &'a str,
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
    /// The page's language, as chosen with its link or else the configuration's.
    pub language: Language,
    pub chosen: Option<Language>,
}

impl SignInFor<'_> {
    /// The same page in the language the form or the link chose.
    pub fn choosing(mut self, chosen: Option<Language>) -> Self {
        if let Some(language) = chosen {
            self.language = language;
            self.chosen = Some(language);
        }
        self
    }
}

/// `?language=en` on the sign-in page; the sign-in form carries it on.
#[derive(Deserialize, Default)]
pub struct LanguageChoice {
    #[serde(default)]
    language: String,
}

impl LanguageChoice {
    pub fn chosen(&self) -> Option<Language> {
        self.language.parse().ok()
    }
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
        lang: to.language,
        chosen: to.chosen.map_or("", Language::code),
        municipality: to.municipality,
        municipality_name: to.municipality_name,
        csrf: &csrf,
        user,
        problem,
    };
    let jar = jar.add(secure_cookie(SIGN_IN_COOKIE, csrf.clone(), to.over_tls));
    (status, jar, view::page(to.language, &page)).into_response()
}

fn sign_in_for(admin: &Admin) -> SignInFor<'_> {
    SignInFor {
        municipality: &admin.config.municipality,
        municipality_name: &admin.config.municipality_name,
        over_tls: admin.config.admin.over_tls(),
        language: admin.config.language,
        chosen: None,
    }
}

/// 403 unless the sign-in form carried the token its page set in the sign-in cookie.
pub fn sign_in_token_refused(lang: Language, jar: &CookieJar, csrf: &str) -> Option<Response> {
    let expected = jar.get(SIGN_IN_COOKIE).map(|c| c.value().to_string());
    if expected.is_some_and(|token| auth::same_token(csrf, &token)) {
        return None;
    }
    Some(view::error(
        lang,
        StatusCode::FORBIDDEN,
        &t!(lang, "error-sign-in-refused"),
        &t!(lang, "error-sign-in-refused.text"),
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
        &t!(to.language, "sign-in-throttled", seconds = wait),
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

/// Records a session (by its token's hash) and its sign-in in the audit log, and the
/// language chosen on the sign-in page as the user's.
pub async fn record_sign_in(
    store: &crate::store::Store,
    token: &str,
    session: &SessionRow,
    chosen: Option<Language>,
    address: IpAddr,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::store::StoreError> {
    let address = address.to_string();
    store
        .create_session(&auth::token_hash(token), session, &address, now)
        .await?;
    if let Some(language) = chosen {
        store
            .set_user_language(&session.user, language.code(), now)
            .await?;
    }
    store
        .audit(now, &session.user, &address, "signed in", "")
        .await
}

pub async fn sign_in_page(
    State(admin): State<Shared>,
    Query(choice): Query<LanguageChoice>,
    jar: CookieJar,
) -> Response {
    let to = sign_in_for(&admin).choosing(choice.chosen());
    sign_in_form(&to, jar, StatusCode::OK, "", "")
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
    /// The language chosen on the sign-in page, if one was.
    #[serde(default)]
    pub(super) language: String,
}

impl SignIn {
    pub(super) fn chosen(&self) -> Option<Language> {
        self.language.parse().ok()
    }
}

pub async fn sign_in(
    State(admin): State<Shared>,
    ConnectInfo(Peer(address)): ConnectInfo<Peer>,
    jar: CookieJar,
    axum::Form(form): axum::Form<SignIn>,
) -> Response {
    let to = sign_in_for(&admin).choosing(form.chosen());
    if let Some(refused) = sign_in_token_refused(to.language, &jar, &form.csrf) {
        return refused;
    }
    // Someone may type their identity number as the user name: it is masked wherever the
    // name is written down (the configuration refuses a user name that looks like one).
    let user = hide_identity_numbers(form.user.trim());
    let now = admin.clock.now();
    let store = admin.store();
    if let Some(wait) = admin.throttle.wait(&user, address, now) {
        return throttled(&to, jar, &user, address, wait);
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
            return view::store_failed(to.language, &e);
        }
        return sign_in_form(
            &to,
            jar,
            StatusCode::UNAUTHORIZED,
            &user,
            &t!(to.language, "sign-in-wrong"),
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
    if let Err(e) = record_sign_in(store, &token, &session, to.chosen, address, now).await {
        return view::store_failed(to.language, &e);
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
        return view::store_failed(session.language, &e);
    }
    if let Err(response) = session.audit(&admin, "signed out", "").await {
        return response;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, Redirect::to("/sign-in")).into_response()
}

/// The language form on every page: a language and the page to go back to.
#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) language: String,
    #[serde(default)]
    pub(super) back: String,
}

impl LanguageForm {
    /// Where to go after the choice: a page of this site, never elsewhere.
    pub(super) fn back(&self) -> &str {
        let back = self.back.as_str();
        if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
            back
        } else {
            "/"
        }
    }
}

/// Keeps the user's choice of language in the state store, then shows the page again.
pub async fn choose_language(
    State(admin): State<Shared>,
    session: Session,
    axum::Form(form): axum::Form<LanguageForm>,
) -> Response {
    if let Err(refused) = session.check(&form.csrf) {
        return refused;
    }
    let Ok(language) = form.language.parse::<Language>() else {
        return view::error(
            session.language,
            StatusCode::BAD_REQUEST,
            &t!(session.language, "error-language"),
            &t!(session.language, "error-language.text"),
        );
    };
    let now = admin.clock.now();
    if let Err(e) = admin
        .store()
        .set_user_language(&session.user, language.code(), now)
        .await
    {
        return view::store_failed(session.language, &e);
    }
    Redirect::to(form.back()).into_response()
}
