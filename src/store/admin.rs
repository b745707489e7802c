//! What the administration page keeps and reads: sessions, the audit log, the IPLOS
//! contacts as the submitter saved them, and the messages with their notifications as the
//! page lists them. Nothing here holds a person's identity: notifications are shown by the
//! EPJ's own ids and the register's person number (`brukerNr`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::outbox::State;
use super::status::{MessageRow, message_row};
use super::{Store, StoreError, on_pool};
use crate::model::register::Contact;

/// A signed-in session as stored: the cookie's token only as its SHA-256.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub user: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    pub user: String,
    pub address: String,
    pub action: String,
    pub detail: String,
}

/// The contacts as last saved, and by whom.
#[derive(Clone, Debug)]
pub struct SavedContacts {
    pub contacts: Vec<Contact>,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// Which messages a list shows.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    pub state: Option<State>,
    pub kind: Option<MessageKind>,
    /// Created on or after / before the end of, in UTC.
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// One message only.
    pub msg_id: Option<String>,
    pub limit: i64,
}

/// What a message is, as the page sorts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// A part of a reporting date's daily shipment.
    Daily,
    /// Notifications sent again.
    Resend,
    /// The final annual message pair (KPR_IPL, KPR_IDE).
    Annual,
}

impl MessageKind {
    pub const ALL: [MessageKind; 3] =
        [MessageKind::Daily, MessageKind::Resend, MessageKind::Annual];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Daily => "daily",
            MessageKind::Resend => "resend",
            MessageKind::Annual => "annual",
        }
    }

    pub fn parse(text: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    fn condition(self) -> &'static str {
        match self {
            MessageKind::Daily => "d.msg_id IS NOT NULL AND d.resend = 0",
            MessageKind::Resend => "d.msg_id IS NOT NULL AND d.resend = 1",
            MessageKind::Annual => "d.msg_id IS NULL",
        }
    }
}

/// A listed message with what it belongs to.
#[derive(Clone, Debug)]
pub struct ListedMessage {
    pub row: MessageRow,
    pub kind: MessageKind,
    /// The daily reporting date; `None` for a re-send or an annual message.
    pub reporting_date: Option<NaiveDate>,
    /// "part 1 of 3" for a daily message.
    pub part: Option<(i64, i64)>,
    pub notifications: Option<i64>,
    /// The deciding receipt's status (1, 2, 3), if any.
    pub receipt_status: Option<i64>,
}

/// One notification as the page shows it: the register's fields and where it came from.
#[derive(Clone, Debug)]
pub struct NotificationRow {
    pub number: i64,
    pub guid: String,
    pub kind: String,
    pub status: String,
    /// The N original an M or C points to.
    pub corrects: Option<String>,
    pub event_day: NaiveDate,
    pub reporting_date: NaiveDate,
    /// The register's `brukerNr`: the EPJ's person number, never the identity number.
    pub user_number: String,
    pub source: String,
    /// The EPJ's service id.
    pub local_id: String,
    /// The MsgId of the first message it went in.
    pub first_message: Option<String>,
}

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &str,
        session: &SessionRow,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO admin_sessions (token_hash, user_name, csrf, address, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_hash)
            .bind(&session.user)
            .bind(&session.csrf)
            .bind(address)
            .bind(now)
            .bind(session.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The session with this token hash when it has neither ended nor expired at `now`.
    pub async fn live_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row: Option<(String, String, DateTime<Utc>)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_name, csrf, expires_at FROM admin_sessions
                 WHERE token_hash = $1 AND ended_at IS NULL AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(user, csrf, expires_at)| SessionRow {
            user,
            csrf,
            expires_at,
        }))
    }

    /// The language `user` chose on the page, if they ever did.
    pub async fn user_language(&self, user: &str) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT language FROM admin_user_settings WHERE user_name = $1")
                .bind(user)
                .fetch_optional(pool)
                .await?
        }))
    }

    pub async fn set_user_language(
        &self,
        user: &str,
        language: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO admin_user_settings (user_name, language, changed_at) VALUES ($1, $2, $3)
                 ON CONFLICT (user_name) DO UPDATE SET language = excluded.language, changed_at = excluded.changed_at",
            )
            .bind(user)
            .bind(language)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn end_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE admin_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL")
                .bind(token_hash)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn audit(
        &self,
        now: DateTime<Utc>,
        user: &str,
        address: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO admin_audit (at, user_name, address, action, detail) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(now)
            .bind(user)
            .bind(address)
            .bind(action)
            .bind(detail)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The latest `limit` audit rows, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        let rows: Vec<(DateTime<Utc>, String, String, String, String)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT at, user_name, address, action, detail FROM admin_audit
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(at, user, address, action, detail)| AuditRow {
                at,
                user,
                address,
                action,
                detail,
            })
            .collect())
    }

    /// The contacts as last saved; `None` until someone saves them (the configuration's hold).
    pub async fn saved_contacts(&self) -> Result<Option<SavedContacts>, StoreError> {
        type ContactRow = (i64, String, Option<String>, String, String, DateTime<Utc>);
        let rows: Vec<ContactRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT kind, name, phone, email, changed_by, changed_at FROM iplos_contacts ORDER BY position",
            )
            .fetch_all(pool)
            .await?
        });
        let Some((_, _, _, _, changed_by, changed_at)) = rows.first().cloned() else {
            return Ok(None);
        };
        let contacts = rows
            .into_iter()
            .map(|(kind, name, phone, email, _, _)| {
                let kind = u8::try_from(kind)
                    .map_err(|_| StoreError::Corrupt(format!("contact type {kind}")))?;
                Ok(Contact {
                    kind,
                    name,
                    phone,
                    email,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(SavedContacts {
            contacts,
            changed_by,
            changed_at,
        }))
    }

    /// Replaces the saved contacts as a whole.
    pub async fn save_contacts(
        &self,
        contacts: &[Contact],
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM iplos_contacts").execute(&mut *tx).await?;
            for (position, contact) in contacts.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO iplos_contacts (position, kind, name, phone, email, changed_by, changed_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(position as i64)
                .bind(i64::from(contact.kind))
                .bind(&contact.name)
                .bind(&contact.phone)
                .bind(&contact.email)
                .bind(by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The messages `filter` selects, newest first.
    pub async fn listed_messages(
        &self,
        filter: &MessageFilter,
    ) -> Result<Vec<ListedMessage>, StoreError> {
        let mut conditions = vec!["1 = 1".to_string()];
        if let Some(state) = filter.state {
            // A fixed word of ours, never user text.
            conditions.push(format!("o.state = '{}'", state.as_str()));
        }
        if let Some(kind) = filter.kind {
            conditions.push(kind.condition().into());
        }
        conditions.push("($1 IS NULL OR o.created_at >= $1)".into());
        conditions.push("($2 IS NULL OR o.created_at < $2)".into());
        conditions.push("($4 IS NULL OR o.msg_id = $4)".into());
        let sql = format!(
            "SELECT o.msg_id, o.msg_type, o.target, o.state, o.created_at, o.state_at,
                    o.publish_count, o.last_problem, d.msg_id AS daily, d.resend,
                    d.reporting_date, d.part, d.parts, d.notifications,
                    (SELECT r.status FROM receipts r WHERE r.msg_id = o.msg_id AND NOT r.conflicting
                     ORDER BY r.id DESC LIMIT 1) AS receipt_status
             FROM outbox o LEFT JOIN daily_messages d ON d.msg_id = o.msg_id
             WHERE {}
             ORDER BY o.created_at DESC, o.msg_id LIMIT $3",
            conditions.join(" AND ")
        );
        on_pool!(self, pool => {
            sqlx::query(&sql)
                .bind(filter.from)
                .bind(filter.until)
                .bind(filter.limit)
                .bind(&filter.msg_id)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| -> Result<ListedMessage, StoreError> {
                    let daily: Option<String> = row.try_get("daily")?;
                    let resend: Option<i64> = row.try_get("resend")?;
                    let kind = match (daily, resend) {
                        (Some(_), Some(1)) => MessageKind::Resend,
                        (Some(_), _) => MessageKind::Daily,
                        (None, _) => MessageKind::Annual,
                    };
                    let part: Option<i64> = row.try_get("part")?;
                    let parts: Option<i64> = row.try_get("parts")?;
                    Ok(ListedMessage {
                        row: message_row!(row),
                        kind,
                        reporting_date: row.try_get("reporting_date")?,
                        part: part.zip(parts),
                        notifications: row.try_get("notifications")?,
                        receipt_status: row.try_get("receipt_status")?,
                    })
                })
                .collect()
        })
    }

    /// The notifications a message held, by number.
    pub async fn notifications_of_message(
        &self,
        msg_id: &str,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "SELECT n.number, n.guid, n.kind, n.status, n.corrects, n.event_day,
                        n.reporting_date, n.user_number, n.source, n.local_id, n.first_message
                 FROM daily_message_notifications m JOIN daily_notifications n ON n.number = m.number
                 WHERE m.msg_id = $1 ORDER BY n.number",
            )
            .bind(msg_id)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| -> Result<NotificationRow, StoreError> {
                Ok(NotificationRow {
                    number: row.try_get("number")?,
                    guid: row.try_get("guid")?,
                    kind: row.try_get("kind")?,
                    status: row.try_get("status")?,
                    corrects: row.try_get("corrects")?,
                    event_day: row.try_get("event_day")?,
                    reporting_date: row.try_get("reporting_date")?,
                    user_number: row.try_get("user_number")?,
                    source: row.try_get("source")?,
                    local_id: row.try_get("local_id")?,
                    first_message: row.try_get("first_message")?,
                })
            })
            .collect()
        })
    }

    /// The messages that carried notification `number`, oldest first.
    pub async fn messages_of_notification(&self, number: i64) -> Result<Vec<String>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT m.msg_id FROM daily_message_notifications m JOIN outbox o ON o.msg_id = m.msg_id
                 WHERE m.number = $1 ORDER BY o.created_at",
            )
            .bind(number)
            .fetch_all(pool)
            .await?
        }))
    }
}
