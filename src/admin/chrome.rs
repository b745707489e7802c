//! The frame around every signed-in page: who is signed in, the menu, the sign-out form with
//! its CSRF token, the municipality and its mode, the language switch's way back.

use super::Admin;
use super::session::Session;
use crate::config::Mode;
use crate::i18n::Language;
use crate::t;

pub struct NavItem {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// The frame around every signed-in page.
pub struct Chrome {
    /// What the page is read in; templates take their words from it.
    pub lang: Language,
    pub title: String,
    pub user: String,
    pub csrf: String,
    pub municipality: String,
    pub municipality_name: String,
    pub mode: String,
    /// `test` or `production`, for the style sheet.
    pub mode_class: &'static str,
    pub nav: Vec<NavItem>,
    /// Where this municipality's pages are: empty for one municipality, `/m/NNNN` on the
    /// page of a multi-municipality deployment.
    pub base: String,
    /// Whether the user may have other municipalities (a link back to the list).
    pub portal: bool,
    /// This page's address, where choosing another language leads back to.
    pub here: String,
}

impl Chrome {
    pub fn new(admin: &Admin, session: &Session, title: impl Into<String>, at: &str) -> Chrome {
        let lang = session.language;
        let menu = [
            ("/", t!(lang, "nav-overview")),
            ("/resend", t!(lang, "nav-resend")),
            ("/runs", t!(lang, "nav-runs")),
            ("/quality", t!(lang, "nav-quality")),
            ("/settings", t!(lang, "nav-settings")),
            ("/audit", t!(lang, "nav-audit")),
        ];
        Chrome {
            lang,
            title: title.into(),
            user: session.user.clone(),
            csrf: session.csrf.clone(),
            municipality: admin.config.municipality.clone(),
            municipality_name: admin.config.municipality_name.clone(),
            mode: match admin.config.mode {
                Mode::Test => t!(lang, "mode-test"),
                Mode::Production => t!(lang, "mode-production"),
            },
            mode_class: match admin.config.mode {
                Mode::Test => "test",
                Mode::Production => "production",
            },
            nav: menu
                .into_iter()
                .map(|(href, label)| NavItem {
                    href: format!("{}{href}", admin.base),
                    label,
                    current: href == at,
                })
                .collect(),
            base: admin.base.clone(),
            portal: admin.portal,
            here: format!(
                "{}{}",
                admin.base,
                if session.here.is_empty() {
                    at
                } else {
                    &session.here
                }
            ),
        }
    }

    /// A text of the catalog in the page's language, for templates.
    pub fn t(&self, key: &str) -> String {
        self.lang.text(key)
    }
}
