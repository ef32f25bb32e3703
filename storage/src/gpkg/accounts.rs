//! Accounts in the GeoPackage: `users`, `tokens` (digests only) and the
//! append-only `audit_log` (triggers refuse updates and deletes).

use gridgov_spatial::Household;
use gridgov_spatial::access::Role;
use rusqlite::{Connection, OptionalExtension, params};

use gridgov_app::accounts::{AuditEntry, AuditQuery, TokenKind, TokenRecord, User};
use gridgov_app::{AuditRecord, Revoke, UnitChange, UserRecord};
use gridgov_spatial::{BuildingId, HouseholdId, Staff, Timestamp, UnitId};

use super::versions::sql;
use crate::{StorageError, read_time, time_text};

/// Creates the account tables when missing, and upgrades older stores'
/// households in place.
pub fn ensure_schema(conn: &Connection) -> Result<(), StorageError> {
    // Households gained the head's ID number; older stores get the column.
    super::schema::add_column_if_missing(conn, "households", "id_number", "TEXT")?;
    // Buildings gained their leaders.
    super::schema::add_column_if_missing(conn, "buildings", "leaders", "TEXT")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS users (
           name TEXT PRIMARY KEY,
           role TEXT NOT NULL,
           grids TEXT NOT NULL DEFAULT '',
           department TEXT,
           password TEXT NOT NULL,
           disabled INTEGER NOT NULL DEFAULT 0,
           created TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS tokens (
           digest TEXT PRIMARY KEY,
           id TEXT NOT NULL,
           user TEXT NOT NULL REFERENCES users(name),
           kind TEXT NOT NULL,
           label TEXT NOT NULL DEFAULT '',
           created TEXT NOT NULL,
           expires INTEGER NOT NULL,
           revoked TEXT);
         CREATE INDEX IF NOT EXISTS tokens_user ON tokens(user);
         CREATE TABLE IF NOT EXISTS audit_log (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           at TEXT NOT NULL,
           user TEXT NOT NULL,
           action TEXT NOT NULL,
           object TEXT NOT NULL,
           detail TEXT NOT NULL DEFAULT '',
           client TEXT);
         CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log(user, id);
         CREATE TRIGGER IF NOT EXISTS audit_log_append_only_update BEFORE UPDATE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
         CREATE TRIGGER IF NOT EXISTS audit_log_append_only_delete BEFORE DELETE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
    )
    .map_err(sql("create account tables"))
}

/// Grid codes as stored: comma-separated.
pub fn join_grids(g: &[String]) -> String {
    g.join(",")
}

/// Grid codes from their stored form.
pub fn split_grids(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// A role from its stored name.
pub fn role_of(s: &str) -> Result<Role, StorageError> {
    Role::parse(s).ok_or_else(|| StorageError::Corrupt(format!("unknown role {s:?} in users")))
}

/// A token kind from its stored name.
pub fn kind_of(s: &str) -> Result<TokenKind, StorageError> {
    TokenKind::parse(s)
        .ok_or_else(|| StorageError::Corrupt(format!("unknown token kind {s:?} in tokens")))
}

type UserRow = (String, String, String, Option<String>, String, bool, String);

fn user_of(r: UserRow) -> Result<UserRecord, StorageError> {
    let (name, role, grids, department, password, disabled, created) = r;
    let what = format!("users {name:?}");
    Ok(UserRecord {
        user: User {
            role: role_of(&role)?,
            grids: split_grids(&grids),
            department,
            disabled,
            created: read_time(&created, &what)?,
            name,
        },
        password_hash: password,
    })
}

const USER_COLS: &str = "name, role, grids, department, password, disabled, created";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

/// Every user, by name.
pub fn users(conn: &Connection) -> Result<Vec<User>, StorageError> {
    let mut st = conn
        .prepare_cached(&format!("SELECT {USER_COLS} FROM users ORDER BY name"))
        .map_err(sql("read users"))?;
    let rows = st
        .query_map([], user_row)
        .map_err(sql("read users"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql("read users"))?;
    rows.into_iter()
        .map(|r| user_of(r).map(|u| u.user))
        .collect()
}

/// One user and their password hash.
pub fn user(conn: &Connection, name: &str) -> Result<Option<UserRecord>, StorageError> {
    conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE name = ?1"))
        .map_err(sql("read user"))?
        .query_row([name], user_row)
        .optional()
        .map_err(sql("read user"))?
        .map(user_of)
        .transpose()
}

/// Adds a user; `false` when the name is taken.
pub fn create_user(conn: &Connection, r: &UserRecord) -> Result<bool, StorageError> {
    let (u, hash) = (&r.user, &r.password_hash);
    let n = conn
        .execute(
            "INSERT OR IGNORE INTO users (name, role, grids, department, password, disabled, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![u.name, u.role.name(), join_grids(&u.grids), u.department, hash, u.disabled, time_text(u.created)],
        )
        .map_err(sql("add user"))?;
    Ok(n == 1)
}

/// Changes a user (and their hash when given); `false` when missing.
pub fn update_user(conn: &Connection, u: &User, hash: Option<&str>) -> Result<bool, StorageError> {
    let n = conn
        .execute(
            "UPDATE users SET role = ?2, grids = ?3, department = ?4, disabled = ?5, password = coalesce(?6, password) WHERE name = ?1",
            params![u.name, u.role.name(), join_grids(&u.grids), u.department, u.disabled, hash],
        )
        .map_err(sql("change user"))?;
    Ok(n == 1)
}

const TOKEN_COLS: &str = "digest, id, user, kind, label, created, expires, revoked";

type TokenRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
);

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

/// A token record from its columns.
pub fn token_of(r: TokenRow) -> Result<TokenRecord, StorageError> {
    let (digest, id, user, kind, label, created, expires, revoked) = r;
    let what = format!("tokens {id}");
    Ok(TokenRecord {
        kind: kind_of(&kind)?,
        created: read_time(&created, &what)?,
        expires: gridgov_spatial::time::from_epoch(expires),
        revoked: revoked.map(|t| read_time(&t, &what)).transpose()?,
        id,
        digest,
        user,
        label,
    })
}

/// Stores a token's record.
pub fn add_token(conn: &Connection, t: &TokenRecord) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO tokens (digest, id, user, kind, label, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![t.digest, t.id, t.user, t.kind.as_str(), t.label, time_text(t.created), t.expires.as_second()],
    )
    .map_err(sql("add token"))?;
    Ok(())
}

/// The token with this digest.
pub fn token(conn: &Connection, digest: &str) -> Result<Option<TokenRecord>, StorageError> {
    conn.prepare_cached(&format!(
        "SELECT {TOKEN_COLS} FROM tokens WHERE digest = ?1"
    ))
    .map_err(sql("read token"))?
    .query_row([digest], token_row)
    .optional()
    .map_err(sql("read token"))?
    .map(token_of)
    .transpose()
}

/// Tokens, of one user or all, newest first.
pub fn tokens(conn: &Connection, user: Option<&str>) -> Result<Vec<TokenRecord>, StorageError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLS} FROM tokens WHERE ?1 IS NULL OR user = ?1 ORDER BY created DESC, id"
        ))
        .map_err(sql("read tokens"))?;
    let rows = st
        .query_map([user], token_row)
        .map_err(sql("read tokens"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql("read tokens"))?;
    rows.into_iter().map(token_of).collect()
}

/// Revokes tokens; how many were revoked.
pub fn revoke_tokens(
    conn: &Connection,
    which: &Revoke,
    at: Timestamp,
) -> Result<usize, StorageError> {
    let (id, user) = match which {
        Revoke::Token { id, of } => (Some(id.as_str()), of.as_deref()),
        Revoke::AllOf(u) => (None, Some(u.as_str())),
    };
    conn.execute(
        "UPDATE tokens SET revoked = ?3 WHERE revoked IS NULL AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR user = ?2)",
        params![id, user, time_text(at)],
    )
    .map_err(sql("revoke tokens"))
}

/// Appends audit lines in one transaction.
pub fn append_audit(conn: &mut Connection, xs: &[AuditEntry]) -> Result<(), StorageError> {
    let tx = conn.transaction().map_err(sql("begin audit"))?;
    {
        let mut st = tx
            .prepare_cached("INSERT INTO audit_log (at, user, action, object, detail, client) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .map_err(sql("write audit"))?;
        for x in xs {
            st.execute(params![
                time_text(x.at),
                x.user,
                x.action,
                x.object,
                x.detail,
                x.client
            ])
            .map_err(sql("write audit"))?;
        }
    }
    tx.commit().map_err(sql("commit audit"))
}

/// Audit lines matching `q`, newest first.
pub fn audit_log(conn: &Connection, q: &AuditQuery) -> Result<Vec<AuditRecord>, StorageError> {
    let mut st = conn
        .prepare_cached(
            "SELECT id, at, user, action, object, detail, client FROM audit_log
             WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR action = ?2)
               AND (?3 IS NULL OR substr(object, 1, length(?3)) = ?3)
               AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5)
               AND (?6 IS NULL OR id < ?6)
             ORDER BY id DESC LIMIT ?7",
        )
        .map_err(sql("read audit"))?;
    let rows = st
        .query_map(
            params![
                q.user,
                q.action,
                q.object,
                q.since.map(time_text),
                q.until.map(time_text),
                q.before,
                q.limit() as i64
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    AuditEntry {
                        at: Timestamp::UNIX_EPOCH,
                        user: r.get(2)?,
                        action: r.get(3)?,
                        object: r.get(4)?,
                        detail: r.get(5)?,
                        client: r.get(6)?,
                    },
                ))
            },
        )
        .map_err(sql("read audit"))?;
    rows.map(|r| {
        let (id, at, mut entry) = r.map_err(sql("read audit"))?;
        entry.at = read_time(&at, &format!("audit_log {id}"))?;
        Ok(AuditRecord { id, entry })
    })
    .collect()
}

/// Changes a household (its fid is its index plus one).
pub fn update_household(
    conn: &Connection,
    id: HouseholdId,
    h: &Household,
) -> Result<bool, StorageError> {
    let n = conn
        .execute(
            "UPDATE households SET room = ?2, headcount = ?3, head_name = ?4, phone = ?5, id_number = ?6 WHERE fid = ?1",
            params![id.index() as i64 + 1, h.room, h.headcount, h.head_name, h.phone, h.id_number],
        )
        .map_err(sql("change household"))?;
    Ok(n == 1)
}

/// One household (its fid is its index plus one).
pub fn household(conn: &Connection, id: HouseholdId) -> Result<Option<Household>, StorageError> {
    conn.query_row(
        "SELECT unit_fid, room, headcount, head_name, phone, id_number FROM households WHERE fid = ?1",
        params![id.index() as i64 + 1],
        |r| {
            Ok(Household {
                unit: UnitId(u32::try_from(r.get::<_, i64>(0)? - 1).unwrap_or(u32::MAX)),
                room: r.get(1)?,
                headcount: r.get(2)?,
                head_name: r.get(3)?,
                phone: r.get(4)?,
                id_number: r.get(5)?,
            })
        },
    )
    .optional()
    .map_err(sql("read household"))
}

/// A unit's label and household count.
pub fn unit_change(conn: &Connection, id: UnitId) -> Result<Option<UnitChange>, StorageError> {
    conn.query_row(
        "SELECT label, households FROM units WHERE fid = ?1",
        params![id.index() as i64 + 1],
        |r| {
            Ok(UnitChange {
                label: r.get(0)?,
                households: r.get(1)?,
            })
        },
    )
    .optional()
    .map_err(sql("read unit"))
}

/// Replaces a building's leaders.
pub fn update_building_leaders(
    conn: &Connection,
    id: BuildingId,
    leaders: &[Staff],
) -> Result<bool, StorageError> {
    let n = conn
        .execute(
            "UPDATE buildings SET leaders = ?2 WHERE fid = ?1",
            params![id.index() as i64 + 1, crate::leaders_text(leaders)],
        )
        .map_err(sql("change building leaders"))?;
    Ok(n == 1)
}

/// Replaces the district's list of staff roles.
pub fn set_roles(conn: &Connection, roles: &gridgov_spatial::Roles) -> Result<(), StorageError> {
    conn.execute(
        "INSERT OR REPLACE INTO gridgov_meta VALUES (?1, ?2)",
        params![crate::ROLES_KEY, crate::roles_text(roles)],
    )
    .map_err(sql("change the staff roles"))?;
    Ok(())
}

/// The district's list of staff roles.
pub fn roles(conn: &Connection) -> Result<gridgov_spatial::Roles, StorageError> {
    let s = conn
        .query_row(
            "SELECT value FROM gridgov_meta WHERE key = ?1",
            [crate::ROLES_KEY],
            |r| r.get::<_, String>(0),
        )
        .optional()
        .map_err(sql("read the staff roles"))?;
    crate::read_roles(s)
}

/// A building's leaders; `None` when there is no such building.
pub fn building_leaders(
    conn: &Connection,
    id: BuildingId,
) -> Result<Option<Vec<Staff>>, StorageError> {
    let what = format!("buildings fid {}", id.index() + 1);
    conn.query_row(
        "SELECT leaders FROM buildings WHERE fid = ?1",
        params![id.index() as i64 + 1],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()
    .map_err(sql("read building leaders"))?
    .map(|s| crate::read_leaders(s, &what))
    .transpose()
}

/// Changes a unit's label and household count.
pub fn update_unit(conn: &Connection, id: UnitId, u: &UnitChange) -> Result<bool, StorageError> {
    let n = conn
        .execute(
            "UPDATE units SET label = ?2, households = ?3 WHERE fid = ?1",
            params![id.index() as i64 + 1, u.label, u.households],
        )
        .map_err(sql("change unit"))?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::super::schema::{self, sample_gpkg_before};
    use crate::GpkgStore;
    use gridgov_app::{DistrictStore, HouseholdStore};
    use gridgov_spatial::HouseholdId;

    #[test]
    fn a_store_from_before_id_numbers_is_read_as_it_is_and_upgraded_when_opened() {
        // As written before households carried ID numbers.
        let (dir, path, d) =
            sample_gpkg_before("idnumbers", "ALTER TABLE households DROP COLUMN id_number");
        assert!(d.households.iter().all(|h| h.id_number.is_some()));
        let back = schema::load(&schema::open(&path).unwrap()).unwrap();
        assert_eq!(back.households.len(), d.households.len());
        assert!(back.households.iter().all(|h| h.id_number.is_none()));
        let (store, created) =
            GpkgStore::open_or_create(&path, &dir.path().join("none.json"), crate::testing::now())
                .unwrap();
        assert!(!created);
        let mut h = store.load().unwrap().households[3].clone();
        h.id_number = Some("11010519491231002X".into());
        h.phone = None;
        assert!(store.update_household(HouseholdId(3), &h).unwrap());
        let now = store.load().unwrap();
        assert_eq!(now.households[3], h);
        assert_eq!(now.households[2].id_number, None);
        assert!(
            !store
                .update_household(HouseholdId(d.households.len() as u32), &h)
                .unwrap()
        );
        drop(dir);
    }
}
