//! Accounts in PostgreSQL: the same tables and rules as the GeoPackage
//! ([`crate::gpkg::accounts`]); `audit_log` is append-only by trigger.

use gridgov_app::accounts::{AuditEntry, AuditQuery, TokenRecord, User};
use gridgov_app::{AuditRecord, Revoke, UnitChange, UserRecord};
use gridgov_spatial::{BuildingId, Household, HouseholdId, Staff, Timestamp, UnitId};
use postgres::Client;

use crate::gpkg::accounts::{join_grids, kind_of, role_of, split_grids};
use crate::{StorageError, read_time, time_text};

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
         ALTER TABLE buildings ADD COLUMN IF NOT EXISTS leaders text;
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
           FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
         DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
         CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
           FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();",
    )
    .map_err(pg("create account tables"))?;
    tx.commit().map_err(pg("commit account tables"))
}

const USER_COLS: &str = "name, role, grids, department, password, disabled, created";

fn user_of(r: &postgres::Row) -> Result<UserRecord, StorageError> {
    let name: String = r.get(0);
    let what = format!("users {name:?}");
    Ok(UserRecord {
        user: User {
            role: role_of(r.get(1))?,
            grids: split_grids(r.get(2)),
            department: r.get(3),
            disabled: r.get(5),
            created: read_time(r.get(6), &what)?,
            name,
        },
        password_hash: r.get(4),
    })
}

/// Every user, by name.
pub fn users(c: &mut Client) -> Result<Vec<User>, StorageError> {
    c.query(&format!("SELECT {USER_COLS} FROM users ORDER BY name"), &[])
        .map_err(pg("read users"))?
        .iter()
        .map(|r| user_of(r).map(|u| u.user))
        .collect()
}

/// One user and their password hash.
pub fn user(c: &mut Client, name: &str) -> Result<Option<UserRecord>, StorageError> {
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
pub fn create_user(c: &mut Client, r: &UserRecord) -> Result<bool, StorageError> {
    let (u, hash) = (&r.user, &r.password_hash);
    let n = c
        .execute(
            "INSERT INTO users (name, role, grids, department, password, disabled, created) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
            &[&u.name, &u.role.name(), &join_grids(&u.grids), &u.department, hash, &u.disabled, &time_text(u.created)],
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
    let id: String = r.get(1);
    let what = format!("tokens {id}");
    Ok(TokenRecord {
        digest: r.get(0),
        user: r.get(2),
        kind: kind_of(r.get(3))?,
        label: r.get(4),
        created: read_time(r.get(5), &what)?,
        expires: gridgov_spatial::time::from_epoch(r.get(6)),
        revoked: r
            .get::<_, Option<&str>>(7)
            .map(|t| read_time(t, &what))
            .transpose()?,
        id,
    })
}

/// Stores a token's record.
pub fn add_token(c: &mut Client, t: &TokenRecord) -> Result<(), StorageError> {
    c.execute(
        "INSERT INTO tokens (digest, id, \"user\", kind, label, created, expires) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&t.digest, &t.id, &t.user, &t.kind.as_str(), &t.label, &time_text(t.created), &t.expires.as_second()],
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

/// Revokes tokens; how many.
pub fn revoke_tokens(c: &mut Client, which: &Revoke, at: Timestamp) -> Result<usize, StorageError> {
    let (id, user) = match which {
        Revoke::Token { id, of } => (Some(id.as_str()), of.as_deref()),
        Revoke::AllOf(u) => (None, Some(u.as_str())),
    };
    let at = time_text(at);
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
            &[
                &time_text(x.at),
                &x.user,
                &x.action,
                &x.object,
                &x.detail,
                &x.client,
            ],
        )
        .map_err(pg("write audit"))?;
    }
    tx.commit().map_err(pg("commit audit"))
}

/// Audit lines matching `q`, newest first.
pub fn audit_log(c: &mut Client, q: &AuditQuery) -> Result<Vec<AuditRecord>, StorageError> {
    let limit = q.limit() as i64;
    let (since, until) = (q.since.map(time_text), q.until.map(time_text));
    let rows = c
        .query(
            "SELECT id, at, \"user\", action, object, detail, client FROM audit_log
             WHERE ($1::text IS NULL OR \"user\" = $1::text) AND ($2::text IS NULL OR action = $2::text)
               AND ($3::text IS NULL OR starts_with(object, $3::text))
               AND ($4::text IS NULL OR at >= $4::text) AND ($5::text IS NULL OR at < $5::text)
               AND ($6::bigint IS NULL OR id < $6::bigint)
             ORDER BY id DESC LIMIT $7",
            &[&q.user, &q.action, &q.object, &since, &until, &q.before, &limit],
        )
        .map_err(pg("read audit"))?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.get(0);
            Ok(AuditRecord {
                id,
                entry: AuditEntry {
                    at: read_time(r.get(1), &format!("audit_log {id}"))?,
                    user: r.get(2),
                    action: r.get(3),
                    object: r.get(4),
                    detail: r.get(5),
                    client: r.get(6),
                },
            })
        })
        .collect()
}

/// The channel household and unit edits are announced on: the writer's
/// origin, a space, and `h:<index>` or `u:<index>`.
pub const HOUSEHOLDS_CHANNEL: &str = "gridgov_households";

/// Changes a household (its fid is its index plus one), announced on
/// [`HOUSEHOLDS_CHANNEL`] as `origin`'s in the same transaction.
pub fn update_household(
    c: &mut Client,
    origin: &str,
    id: HouseholdId,
    h: &Household,
) -> Result<bool, StorageError> {
    let mut tx = c.transaction().map_err(pg("begin changing a household"))?;
    let n = tx
        .execute(
            "UPDATE households SET room = $2, headcount = $3, head_name = $4, phone = $5, id_number = $6 WHERE fid = $1",
            &[&(id.index() as i64 + 1), &h.room, &i32::from(h.headcount), &h.head_name, &h.phone, &h.id_number],
        )
        .map_err(pg("change household"))?;
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&HOUSEHOLDS_CHANNEL, &format!("{origin} h:{}", id.index())],
    )
    .map_err(pg("notify"))?;
    tx.commit().map_err(pg("commit household"))?;
    Ok(n == 1)
}

/// Changes a unit's label and household count, announced on
/// [`HOUSEHOLDS_CHANNEL`] as `origin`'s in the same transaction.
pub fn update_unit(
    c: &mut Client,
    origin: &str,
    id: UnitId,
    u: &UnitChange,
) -> Result<bool, StorageError> {
    let mut tx = c.transaction().map_err(pg("begin changing a unit"))?;
    let n = tx
        .execute(
            "UPDATE units SET label = $2, households = $3 WHERE fid = $1",
            &[&(id.index() as i64 + 1), &u.label, &(u.households as i32)],
        )
        .map_err(pg("change unit"))?;
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&HOUSEHOLDS_CHANNEL, &format!("{origin} u:{}", id.index())],
    )
    .map_err(pg("notify"))?;
    tx.commit().map_err(pg("commit unit"))?;
    Ok(n == 1)
}

/// Replaces the district's list of staff roles and tells the other
/// replicas.
pub fn set_roles(
    c: &mut Client,
    origin: &str,
    roles: &gridgov_spatial::Roles,
) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin changing the roles"))?;
    tx.execute(
        "INSERT INTO gridgov_meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        &[&crate::ROLES_KEY, &crate::roles_text(roles)],
    )
    .map_err(pg("change the staff roles"))?;
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&HOUSEHOLDS_CHANNEL, &format!("{origin} r:0")],
    )
    .map_err(pg("notify"))?;
    tx.commit().map_err(pg("commit the staff roles"))?;
    Ok(())
}

/// The district's list of staff roles.
pub fn roles(c: &mut Client) -> Result<gridgov_spatial::Roles, StorageError> {
    let row = c
        .query_opt(
            "SELECT value FROM gridgov_meta WHERE key = $1",
            &[&crate::ROLES_KEY],
        )
        .map_err(pg("read the staff roles"))?;
    crate::read_roles(row.map(|r| r.get::<_, String>(0)))
}

/// Replaces a building's leaders and tells the other replicas.
pub fn update_building_leaders(
    c: &mut Client,
    origin: &str,
    id: BuildingId,
    leaders: &[Staff],
) -> Result<bool, StorageError> {
    let mut tx = c
        .transaction()
        .map_err(pg("begin changing building leaders"))?;
    let n = tx
        .execute(
            "UPDATE buildings SET leaders = $2 WHERE fid = $1",
            &[&(id.index() as i64 + 1), &crate::leaders_text(leaders)],
        )
        .map_err(pg("change building leaders"))?;
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&HOUSEHOLDS_CHANNEL, &format!("{origin} b:{}", id.index())],
    )
    .map_err(pg("notify"))?;
    tx.commit().map_err(pg("commit building leaders"))?;
    Ok(n == 1)
}

/// A building's leaders; `None` when there is no such building.
pub fn building_leaders(
    c: &mut Client,
    id: BuildingId,
) -> Result<Option<Vec<Staff>>, StorageError> {
    let what = format!("buildings fid {}", id.index() + 1);
    c.query_opt(
        "SELECT leaders FROM buildings WHERE fid = $1",
        &[&(id.index() as i64 + 1)],
    )
    .map_err(pg("read building leaders"))?
    .map(|r| crate::read_leaders(r.get(0), &what))
    .transpose()
}

/// One household (its fid is its index plus one).
pub fn household(c: &mut Client, id: HouseholdId) -> Result<Option<Household>, StorageError> {
    let Some(r) = c
        .query_opt(
            "SELECT unit_fid, room, headcount, head_name, phone, id_number FROM households WHERE fid = $1",
            &[&(id.index() as i64 + 1)],
        )
        .map_err(pg("read household"))?
    else {
        return Ok(None);
    };
    let what = format!("household {}", id.index() + 1);
    Ok(Some(Household {
        unit: UnitId(
            u32::try_from(r.get::<_, i64>(0) - 1)
                .map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))?,
        ),
        room: r.get(1),
        headcount: super::int(r.get(2), &what)?,
        head_name: r.get(3),
        phone: r.get(4),
        id_number: r.get(5),
    }))
}

/// A unit's label and household count.
pub fn unit_change(c: &mut Client, id: UnitId) -> Result<Option<UnitChange>, StorageError> {
    let Some(r) = c
        .query_opt(
            "SELECT label, households FROM units WHERE fid = $1",
            &[&(id.index() as i64 + 1)],
        )
        .map_err(pg("read unit"))?
    else {
        return Ok(None);
    };
    Ok(Some(UnitChange {
        label: r.get(0),
        households: super::int(r.get(1), &format!("unit {}", id.index() + 1))?,
    }))
}
