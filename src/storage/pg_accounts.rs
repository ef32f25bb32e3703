//! Accounts in PostgreSQL: the same tables and rules as the GeoPackage
//! ([`super::accounts`]); `audit_log` is append-only by trigger.

use gridgov_spatial::Household;
use postgres::Client;

use super::StorageError;
use super::accounts::{join_grids, kind_of, role_of, split_grids};
use crate::accounts::{AuditEntry, AuditQuery, TokenRecord, User};

fn pg(what: &str) -> impl Fn(postgres::Error) -> StorageError + '_ {
    move |source| StorageError::Postgres {
        what: what.to_string(),
        source,
    }
}

/// Creates the account tables when missing (under the schema lock).
pub fn ensure_schema(c: &mut Client) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin account tables"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&0x6361_7365_i64])
        .map_err(pg("lock schema"))?;
    tx.batch_execute(
        "ALTER TABLE households ADD COLUMN IF NOT EXISTS id_number text;
         CREATE TABLE IF NOT EXISTS users (
           name text PRIMARY KEY,
           role text NOT NULL,
           grids text NOT NULL DEFAULT '',
           department text,
           password text NOT NULL,
           disabled boolean NOT NULL DEFAULT false,
           created text NOT NULL);
         CREATE TABLE IF NOT EXISTS tokens (
           digest text PRIMARY KEY,
           id text NOT NULL,
           \"user\" text NOT NULL REFERENCES users(name),
           kind text NOT NULL,
           label text NOT NULL DEFAULT '',
           created text NOT NULL,
           expires bigint NOT NULL,
           revoked text);
         CREATE INDEX IF NOT EXISTS tokens_user ON tokens(\"user\");
         CREATE TABLE IF NOT EXISTS audit_log (
           id bigserial PRIMARY KEY,
           at text NOT NULL,
           \"user\" text NOT NULL,
           action text NOT NULL,
           object text NOT NULL,
           detail text NOT NULL DEFAULT '',
           client text);
         CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log(\"user\", id);
         DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
         CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
           FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();",
    )
    .map_err(pg("create account tables"))?;
    tx.commit().map_err(pg("commit account tables"))
}

const USER_COLS: &str = "name, role, grids, department, password, disabled, created";

fn user_of(r: &postgres::Row) -> Result<(User, String), StorageError> {
    Ok((
        User {
            name: r.get(0),
            role: role_of(r.get(1))?,
            grids: split_grids(r.get(2)),
            department: r.get(3),
            disabled: r.get(5),
            created: r.get(6),
        },
        r.get(4),
    ))
}

/// Every user, by name.
pub fn users(c: &mut Client) -> Result<Vec<User>, StorageError> {
    c.query(&format!("SELECT {USER_COLS} FROM users ORDER BY name"), &[])
        .map_err(pg("read users"))?
        .iter()
        .map(|r| user_of(r).map(|u| u.0))
        .collect()
}

/// One user and their password hash.
pub fn user(c: &mut Client, name: &str) -> Result<Option<(User, String)>, StorageError> {
    c.query_opt(
        &format!("SELECT {USER_COLS} FROM users WHERE name = $1"),
        &[&name],
    )
    .map_err(pg("read user"))?
    .as_ref()
    .map(user_of)
    .transpose()
}

/// Adds a user; `false` when the name is taken.
pub fn create_user(c: &mut Client, u: &User, hash: &str) -> Result<bool, StorageError> {
    let n = c
        .execute(
            "INSERT INTO users (name, role, grids, department, password, disabled, created) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
            &[&u.name, &u.role.name(), &join_grids(&u.grids), &u.department, &hash, &u.disabled, &u.created],
        )
        .map_err(pg("add user"))?;
    Ok(n == 1)
}

/// Changes a user (and their hash when given); `false` when missing.
pub fn update_user(c: &mut Client, u: &User, hash: Option<&str>) -> Result<bool, StorageError> {
    let n = c
        .execute(
            "UPDATE users SET role = $2, grids = $3, department = $4, disabled = $5, password = coalesce($6::text, password) WHERE name = $1",
            &[&u.name, &u.role.name(), &join_grids(&u.grids), &u.department, &u.disabled, &hash],
        )
        .map_err(pg("change user"))?;
    Ok(n == 1)
}

const TOKEN_COLS: &str = "digest, id, \"user\", kind, label, created, expires, revoked";

fn token_of(r: &postgres::Row) -> Result<TokenRecord, StorageError> {
    Ok(TokenRecord {
        digest: r.get(0),
        id: r.get(1),
        user: r.get(2),
        kind: kind_of(r.get(3))?,
        label: r.get(4),
        created: r.get(5),
        expires: r.get(6),
        revoked: r.get(7),
    })
}

/// Stores a token's record.
pub fn add_token(c: &mut Client, t: &TokenRecord) -> Result<(), StorageError> {
    c.execute(
        "INSERT INTO tokens (digest, id, \"user\", kind, label, created, expires) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&t.digest, &t.id, &t.user, &t.kind.as_str(), &t.label, &t.created, &t.expires],
    )
    .map_err(pg("add token"))?;
    Ok(())
}

/// The token with this digest.
pub fn token(c: &mut Client, digest: &str) -> Result<Option<TokenRecord>, StorageError> {
    c.query_opt(
        &format!("SELECT {TOKEN_COLS} FROM tokens WHERE digest = $1"),
        &[&digest],
    )
    .map_err(pg("read token"))?
    .as_ref()
    .map(token_of)
    .transpose()
}

/// Tokens, of one user or all, newest first.
pub fn tokens(c: &mut Client, user: Option<&str>) -> Result<Vec<TokenRecord>, StorageError> {
    c.query(
        &format!(
            "SELECT {TOKEN_COLS} FROM tokens WHERE $1::text IS NULL OR \"user\" = $1::text ORDER BY created DESC, id"
        ),
        &[&user],
    )
    .map_err(pg("read tokens"))?
    .iter()
    .map(token_of)
    .collect()
}

/// Revokes the token with public id `id`, or every token of `user`.
pub fn revoke_tokens(
    c: &mut Client,
    id: Option<&str>,
    user: Option<&str>,
    at: &str,
) -> Result<usize, StorageError> {
    if id.is_none() && user.is_none() {
        return Ok(0);
    }
    let n = c
        .execute(
            "UPDATE tokens SET revoked = $3 WHERE revoked IS NULL AND ($1::text IS NULL OR id = $1::text) AND ($2::text IS NULL OR \"user\" = $2::text)",
            &[&id, &user, &at],
        )
        .map_err(pg("revoke tokens"))?;
    Ok(n as usize)
}

/// Appends audit lines in one transaction.
pub fn append_audit(c: &mut Client, xs: &[AuditEntry]) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin audit"))?;
    let st = tx
        .prepare("INSERT INTO audit_log (at, \"user\", action, object, detail, client) VALUES ($1, $2, $3, $4, $5, $6)")
        .map_err(pg("write audit"))?;
    for x in xs {
        tx.execute(
            &st,
            &[&x.at, &x.user, &x.action, &x.object, &x.detail, &x.client],
        )
        .map_err(pg("write audit"))?;
    }
    tx.commit().map_err(pg("commit audit"))
}

/// Audit lines matching `q`, newest first.
pub fn audit_log(c: &mut Client, q: &AuditQuery) -> Result<Vec<(i64, AuditEntry)>, StorageError> {
    let limit = q.limit() as i64;
    let rows = c
        .query(
            "SELECT id, at, \"user\", action, object, detail, client FROM audit_log
             WHERE ($1::text IS NULL OR \"user\" = $1::text) AND ($2::text IS NULL OR action = $2::text)
               AND ($3::text IS NULL OR starts_with(object, $3::text))
               AND ($4::text IS NULL OR at >= $4::text) AND ($5::text IS NULL OR at < $5::text)
               AND ($6::bigint IS NULL OR id < $6::bigint)
             ORDER BY id DESC LIMIT $7",
            &[&q.user, &q.action, &q.object, &q.since, &q.until, &q.before, &limit],
        )
        .map_err(pg("read audit"))?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                AuditEntry {
                    at: r.get(1),
                    user: r.get(2),
                    action: r.get(3),
                    object: r.get(4),
                    detail: r.get(5),
                    client: r.get(6),
                },
            )
        })
        .collect())
}

/// Changes household `index` (0-based; its fid is `index + 1`).
pub fn update_household(c: &mut Client, index: usize, h: &Household) -> Result<bool, StorageError> {
    let n = c
        .execute(
            "UPDATE households SET room = $2, headcount = $3, head_name = $4, phone = $5, id_number = $6 WHERE fid = $1",
            &[&(index as i64 + 1), &h.room, &i32::from(h.headcount), &h.head_name, &h.phone, &h.id_number],
        )
        .map_err(pg("change household"))?;
    Ok(n == 1)
}

/// Changes unit `index`'s label and household count.
pub fn update_unit(
    c: &mut Client,
    index: usize,
    label: &str,
    households: u32,
) -> Result<bool, StorageError> {
    let n = c
        .execute(
            "UPDATE units SET label = $2, households = $3 WHERE fid = $1",
            &[&(index as i64 + 1), &label, &(households as i32)],
        )
        .map_err(pg("change unit"))?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{PgStore, Store};

    #[test]
    fn users_tokens_and_an_append_only_audit_log_round_trip_in_postgis() {
        let Some(cluster) = crate::storage::testing::cluster() else {
            return;
        };
        let url = crate::storage::testing::fresh_database(&cluster, "accounts_rt");
        let seed =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample-district.json");
        let (store, _) = PgStore::open_or_create(&url, &seed).unwrap();
        let pw = crate::accounts::ensure_first_admin(&store, "2026-11-22T00:00:00Z")
            .unwrap()
            .unwrap();
        let (token, rec, u) =
            crate::accounts::login(&store, "admin", &pw, 1_000, "2026-11-22T00:00:00Z").unwrap();
        assert_eq!(u.role, gridgov_spatial::access::Role::Admin);
        assert!(crate::accounts::authenticate(&store, &token, 2_000).is_ok());
        assert!(crate::accounts::authenticate(&store, &token, rec.expires).is_err());
        assert_eq!(
            store.revoke_tokens(Some(&rec.id), None, "later").unwrap(),
            1
        );
        assert!(crate::accounts::authenticate(&store, &token, 2_000).is_err());
        let log = store.audit_log(&AuditQuery::default()).unwrap();
        assert_eq!(log.len(), 1, "the first start is audited");
        let mut c = Client::connect(&url, postgres::NoTls).unwrap();
        assert!(c.execute("DELETE FROM audit_log", &[]).is_err());
        assert!(c.execute("UPDATE audit_log SET action = 'x'", &[]).is_err());
        assert_eq!(store.audit_log(&AuditQuery::default()).unwrap(), log);
        // Households change in place.
        let mut h = store.load().unwrap().households[0].clone();
        h.phone = Some("13900000000".into());
        h.id_number = Some("11010519491231002X".into());
        assert!(store.update_household(0, &h).unwrap());
        assert_eq!(store.load().unwrap().households[0], h);
        assert!(store.update_unit(0, "9单元", 7).unwrap());
        let u = &store.load().unwrap().units[0];
        assert_eq!((u.label.as_str(), u.households), ("9单元", 7));
    }
}
