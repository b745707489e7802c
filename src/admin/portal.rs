//! The administration page of a multi-municipality deployment (`run --tenants`): one sign-in
//! for every municipality whose configuration names the user in `[[admin.user]]` (with the
//! password given), a list of those, and each one's pages under `/m/NNNN/` exactly as it has
//! them alone. A user sees only the municipalities granted to them: a session exists only
//! in the state stores of those, and each page looks it up in its municipality's store.
//!
//! Any replica may serve it, whichever holds the municipalities' leases: pages read the
//! store, and what they write (sessions, the audit log, contacts, a re-send's messages) is an
//! operator's write beside the replicas, not a replica's; a re-send is sent by the replica
//! holding the municipality at its next look at the outbox (within 30 s).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use tokio::sync::{Notify, OnceCell, watch};
use tower::ServiceExt;

use super::auth::{self, SESSION_COOKIE, SIGN_IN_COOKIE, Throttle};
use super::session::{
    CsrfOnly, LanguageChoice, LanguageForm, Peer, SignIn, SignInFor, form_refused,
    record_refused_sign_in, record_sign_in, secure_cookie, sign_in_form, sign_in_token_refused,
    throttled,
};
use super::{Admin, view};
use crate::agent::Beside;
use crate::agent::clock::Clock;
use crate::config::Config;
use crate::i18n::Language;
use crate::redact::hide_identity_numbers;
use crate::shipping::Shipping;
use crate::store::admin::SessionRow;
use crate::t;

/// Which municipalities a browser signed in to: where its session is looked for. Not a
/// secret and not a grant: each municipality's store still has to hold the session.
const GRANTED_COOKIE: &str = "kpr_admin_municipalities";

/// Every municipality whose configuration names someone who may sign in.
pub struct Portal {
    entries: BTreeMap<String, Entry>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    over_tls: bool,
}

struct Entry {
    config: Arc<Config>,
    /// Opened at its first use: keys, schemas and the store (no lease: an operator's writes).
    opened: OnceCell<(Arc<Admin>, Router)>,
}

impl Portal {
    pub fn new(configs: Vec<Config>, clock: Arc<dyn Clock>, over_tls: bool) -> Portal {
        let entries = configs
            .into_iter()
            .filter(|config| config.admin.enabled())
            .map(|config| {
                (
                    config.municipality.clone(),
                    Entry {
                        config: Arc::new(config),
                        opened: OnceCell::new(),
                    },
                )
            })
            .collect();
        Portal {
            entries,
            clock,
            throttle: Throttle::default(),
            over_tls,
        }
    }

    /// Whether anyone may sign in at all.
    pub fn enabled(&self) -> bool {
        !self.entries.is_empty()
    }

    /// A municipality's page state and router, opened at first use.
    async fn open(&self, number: &str) -> Option<Result<&(Arc<Admin>, Router), Response>> {
        let entry = self.entries.get(number)?;
        let opened = entry
            .opened
            .get_or_try_init(|| async {
                let shipping = Shipping::open((*entry.config).clone()).await?;
                let admin = Arc::new(Admin {
                    base: format!("/m/{number}"),
                    portal: true,
                    ..Admin::single(
                        entry.config.clone(),
                        Arc::new(shipping),
                        self.clock.clone(),
                        Arc::new(Notify::new()),
                    )
                });
                Ok::<_, crate::shipping::ShippingError>((admin.clone(), super::router(admin)))
            })
            .await;
        Some(opened.map_err(|e| {
            tracing::error!(
                municipality = number,
                "the administration page cannot open: {e}"
            );
            let lang = entry.config.language;
            view::error(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                &t!(lang, "error-municipality-closed"),
                &t!(lang, "error-municipality-closed.text"),
            )
        }))
    }

    /// The municipalities where the browser's session is live: (number, name, CSRF token).
    async fn signed_in(&self, jar: &CookieJar) -> Vec<(String, String, SessionRow)> {
        let Some(token) = jar.get(SESSION_COOKIE) else {
            return Vec::new();
        };
        let hash = auth::token_hash(token.value());
        let listed = jar
            .get(GRANTED_COOKIE)
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let mut found = Vec::new();
        for number in listed.split('.') {
            let Some(Ok((admin, _))) = self.open(number).await else {
                continue;
            };
            if let Ok(Some(row)) = admin.store().live_session(&hash, self.clock.now()).await
                && admin.config.admin.users.iter().any(|u| u.name == row.user)
            {
                found.push((
                    number.to_string(),
                    admin.config.municipality_name.clone(),
                    row,
                ));
            }
        }
        found
    }
}

pub type SharedPortal = Arc<Portal>;

/// The page of every municipality in `configs` beside a replica (`run --tenants`), served as
/// `settings` say when any of them names someone who may sign in: what `kpr-bridge run`
/// hands the replica.
pub fn beside(
    configs: Vec<Config>,
    clock: Arc<dyn Clock>,
    settings: crate::config::admin::Admin,
    shutdown: watch::Receiver<bool>,
) -> Beside {
    Box::pin(async move {
        let portal = Arc::new(Portal::new(configs, clock, settings.over_tls()));
        if !portal.enabled() {
            tracing::info!(
                "no administration page: no municipality's [[admin.user]] names anyone who may sign in"
            );
            return Ok(None);
        }
        let (bound, task) = super::serve_app(router(portal), &settings, shutdown).await?;
        let scheme = if settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!("the administration page on {scheme}://{bound}/");
        Ok(Some(task))
    })
}

pub fn router(portal: SharedPortal) -> Router {
    Router::new()
        .route("/", get(list))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/language", post(choose_language))
        .route("/style.css", get(view::style))
        .route("/m/{municipality}", get(to_municipality))
        .route("/m/{municipality}/", any(municipality))
        .route("/m/{municipality}/{*rest}", any(municipality))
        .fallback(view::not_found)
        .layer(axum::middleware::map_response(view::security_headers))
        .with_state(portal)
}

#[derive(Template)]
#[template(path = "admin/municipalities.html")]
struct ListPage<'a> {
    lang: Language,
    user: &'a str,
    csrf: &'a str,
    municipalities: Vec<(String, String)>,
}

async fn list(State(portal): State<SharedPortal>, jar: CookieJar) -> Response {
    let signed_in = portal.signed_in(&jar).await;
    let Some((_, _, first)) = signed_in.first() else {
        return Redirect::to("/sign-in").into_response();
    };
    let lang = portal.language_of(&signed_in).await;
    view::page(
        lang,
        &ListPage {
            lang,
            user: &first.user,
            csrf: &first.csrf,
            municipalities: signed_in
                .iter()
                .map(|(number, name, _)| (number.clone(), name.clone()))
                .collect(),
        },
    )
}

async fn to_municipality(Path(number): Path<String>) -> Response {
    Redirect::to(&format!("/m/{number}/")).into_response()
}

/// A request for one municipality's pages, handed to its router without the `/m/NNNN`.
async fn municipality(
    State(portal): State<SharedPortal>,
    Path(params): Path<BTreeMap<String, String>>,
    mut request: Request,
) -> Response {
    let number = params.get("municipality").cloned().unwrap_or_default();
    let router = match portal.open(&number).await {
        None => return view::not_found().await,
        Some(Err(response)) => return response,
        Some(Ok((_, router))) => router.clone(),
    };
    let prefix = format!("/m/{number}");
    let rest = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().strip_prefix(&prefix).unwrap_or("/").to_string())
        .unwrap_or_else(|| "/".into());
    let Ok(uri) = rest.parse::<Uri>() else {
        return view::not_found().await;
    };
    *request.uri_mut() = uri;
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

impl Portal {
    /// The deployment's own pages speak the language of its first municipality's
    /// configuration until the user chooses.
    fn language(&self) -> Language {
        self.entries
            .values()
            .next()
            .map(|e| e.config.language)
            .unwrap_or_default()
    }

    /// The language the signed-in user chose (kept in each of their municipalities' stores).
    async fn language_of(&self, signed_in: &[(String, String, SessionRow)]) -> Language {
        let Some((number, _, row)) = signed_in.first() else {
            return self.language();
        };
        let Some(Ok((admin, _))) = self.open(number).await else {
            return self.language();
        };
        match admin.store().user_language(&row.user).await {
            Ok(Some(code)) => code.parse().unwrap_or(admin.config.language),
            _ => admin.config.language,
        }
    }

    fn sign_in_for(&self, chosen: Option<Language>) -> SignInFor<'static> {
        let language = self.language();
        SignInFor {
            municipality: "",
            municipality_name: "",
            over_tls: self.over_tls,
            language,
            chosen: None,
        }
        .choosing(chosen)
    }
}

async fn sign_in_page(
    State(portal): State<SharedPortal>,
    Query(choice): Query<LanguageChoice>,
    jar: CookieJar,
) -> Response {
    sign_in_form(
        &portal.sign_in_for(choice.chosen()),
        jar,
        StatusCode::OK,
        "",
        "",
    )
}

async fn sign_in(
    State(portal): State<SharedPortal>,
    ConnectInfo(Peer(address)): ConnectInfo<Peer>,
    jar: CookieJar,
    axum::Form(form): axum::Form<SignIn>,
) -> Response {
    let to = portal.sign_in_for(form.chosen());
    if let Some(refused) = sign_in_token_refused(to.language, &jar, &form.csrf) {
        return refused;
    }
    let user = hide_identity_numbers(form.user.trim());
    let now = portal.clock.now();
    if let Some(wait) = portal.throttle.wait(&user, address, now) {
        return throttled(&to, jar, &user, address, wait);
    }
    // Each municipality that names the user judges the password by its own hash (the same
    // hash is checked once); one that does not name them grants nothing.
    let naming: Vec<&Entry> = portal
        .entries
        .values()
        .filter(|e| e.config.admin.users.iter().any(|u| u.name == user))
        .collect();
    let users: Vec<Vec<crate::config::admin::User>> = naming
        .iter()
        .map(|e| e.config.admin.users.clone())
        .collect();
    let (name, password) = (user.clone(), form.password);
    let verdicts = tokio::task::spawn_blocking(move || {
        if users.is_empty() {
            // As long as a known name takes: an unknown name is not told apart by time.
            let _ = auth::verify(&[], &name, &password);
            return Vec::new();
        }
        let mut judged: BTreeMap<String, bool> = BTreeMap::new();
        users
            .iter()
            .map(|list| {
                let hash = list
                    .iter()
                    .find(|u| u.name == name)
                    .map(|u| u.password_hash.clone())
                    .unwrap_or_default();
                *judged
                    .entry(hash)
                    .or_insert_with(|| auth::verify(list, &name, &password))
            })
            .collect()
    })
    .await
    .unwrap_or_default();
    let granted: Vec<&Entry> = naming
        .iter()
        .zip(&verdicts)
        .filter(|(_, ok)| **ok)
        .map(|(e, _)| *e)
        .collect();
    if granted.is_empty() {
        portal.throttle.failed(&user, address, now);
        tracing::warn!(user = %user, address = %address, "a sign-in to the administration page failed");
        for entry in &naming {
            if let Some(Ok((admin, _))) = portal.open(&entry.config.municipality).await
                && let Err(e) = record_refused_sign_in(admin.store(), &user, address, now).await
            {
                return view::store_failed(to.language, &e);
            }
        }
        return sign_in_form(
            &to,
            jar,
            StatusCode::UNAUTHORIZED,
            &user,
            &t!(to.language, "sign-in-wrong"),
        );
    }
    portal.throttle.succeeded(&user, address);
    let token = auth::token();
    let csrf = auth::token();
    let mut numbers = Vec::new();
    for entry in granted {
        let number = &entry.config.municipality;
        let admin = match portal.open(number).await {
            Some(Ok((admin, _))) => admin.clone(),
            Some(Err(response)) => return response,
            None => continue,
        };
        let session = SessionRow {
            user: user.clone(),
            csrf: csrf.clone(),
            expires_at: now
                + chrono::Duration::from_std(admin.config.admin.session)
                    .unwrap_or(chrono::Duration::hours(8)),
        };
        if let Err(e) =
            record_sign_in(admin.store(), &token, &session, to.chosen, address, now).await
        {
            return view::store_failed(to.language, &e);
        }
        numbers.push(number.clone());
    }
    tracing::info!(user = %user, address = %address, municipalities = numbers.len(), "signed in to the administration page");
    let jar = jar
        .remove(Cookie::build(SIGN_IN_COOKIE).path("/"))
        .add(secure_cookie(SESSION_COOKIE, token, portal.over_tls))
        .add(secure_cookie(
            GRANTED_COOKIE,
            numbers.join("."),
            portal.over_tls,
        ));
    (jar, Redirect::to("/")).into_response()
}

/// Ends the session in every municipality it was opened in.
async fn sign_out(
    State(portal): State<SharedPortal>,
    ConnectInfo(Peer(address)): ConnectInfo<Peer>,
    jar: CookieJar,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Response {
    let signed_in = portal.signed_in(&jar).await;
    if signed_in.is_empty() {
        return Redirect::to("/sign-in").into_response();
    }
    if !signed_in
        .iter()
        .all(|(_, _, row)| auth::same_token(&form.csrf, &row.csrf))
    {
        return form_refused(portal.language_of(&signed_in).await);
    }
    let hash = jar
        .get(SESSION_COOKIE)
        .map(|c| auth::token_hash(c.value()))
        .unwrap_or_default();
    let now = portal.clock.now();
    for (number, _, row) in &signed_in {
        let Some(Ok((admin, _))) = portal.open(number).await else {
            continue;
        };
        let ended = async {
            admin.store().end_session(&hash, now).await?;
            admin
                .store()
                .audit(now, &row.user, &address.to_string(), "signed out", "")
                .await
        };
        if let Err(e) = ended.await {
            return view::store_failed(admin.config.language, &e);
        }
    }
    let jar = jar
        .remove(Cookie::build(SESSION_COOKIE).path("/"))
        .remove(Cookie::build(GRANTED_COOKIE).path("/"));
    (jar, Redirect::to("/sign-in")).into_response()
}

/// The language chosen on any page of the deployment: kept in every municipality the user is
/// signed in to, so that all their pages speak it.
async fn choose_language(
    State(portal): State<SharedPortal>,
    jar: CookieJar,
    axum::Form(form): axum::Form<LanguageForm>,
) -> Response {
    let signed_in = portal.signed_in(&jar).await;
    if signed_in.is_empty() {
        return Redirect::to("/sign-in").into_response();
    }
    let lang = portal.language_of(&signed_in).await;
    if !signed_in
        .iter()
        .all(|(_, _, row)| auth::same_token(&form.csrf, &row.csrf))
    {
        return form_refused(lang);
    }
    let Ok(language) = form.language.parse::<Language>() else {
        return view::error(
            lang,
            StatusCode::BAD_REQUEST,
            &t!(lang, "error-language"),
            &t!(lang, "error-language.text"),
        );
    };
    let now = portal.clock.now();
    for (number, _, row) in &signed_in {
        let Some(Ok((admin, _))) = portal.open(number).await else {
            continue;
        };
        if let Err(e) = admin
            .store()
            .set_user_language(&row.user, language.code(), now)
            .await
        {
            return view::store_failed(lang, &e);
        }
    }
    Redirect::to(form.back()).into_response()
}
