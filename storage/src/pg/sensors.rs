//! Monitoring points in PostgreSQL: the same tables as the GeoPackage
//! ([`crate::gpkg::sensors`]); readings are append-only by trigger.

use gridgov_spatial::Timestamp;
use gridgov_spatial::sensors::{Sensor, SensorState};
use postgres::Client;

use crate::{StorageError, read_time, time_text};

fn pg(what: &str) -> impl Fn(postgres::Error) -> StorageError + '_ {
    move |source| StorageError::Postgres {
        what: what.to_string(),
        source,
    }
}

/// Creates the tables when missing (under the schema lock; after the case
/// tables, which define `gridgov_append_only`).
pub fn ensure_schema(c: &mut Client) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin sensor tables"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&0x6361_7365_i64])
        .map_err(pg("lock schema"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS sensors (
           code text PRIMARY KEY,
           body text NOT NULL,
           state text NOT NULL DEFAULT '{}');
         CREATE TABLE IF NOT EXISTS sensor_readings (
           id bigserial PRIMARY KEY,
           code text NOT NULL,
           at text NOT NULL,
           value double precision NOT NULL);
         CREATE INDEX IF NOT EXISTS sensor_readings_code_at ON sensor_readings(code, at);
         DROP TRIGGER IF EXISTS sensor_readings_append_only ON sensor_readings;
         CREATE TRIGGER sensor_readings_append_only BEFORE UPDATE OR DELETE ON sensor_readings
           FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();",
    )
    .map_err(pg("create the sensor tables"))?;
    tx.commit().map_err(pg("commit sensor tables"))
}

fn row(code: &str, body: &str, state: &str) -> Result<(Sensor, SensorState), StorageError> {
    let bad = |e: serde_json::Error| StorageError::Corrupt(format!("sensor {code:?}: {e}"));
    Ok((
        serde_json::from_str(body).map_err(bad)?,
        serde_json::from_str(state).map_err(bad)?,
    ))
}

/// Every point, by code.
pub fn sensors(c: &mut Client) -> Result<Vec<(Sensor, SensorState)>, StorageError> {
    c.query("SELECT code, body, state FROM sensors ORDER BY code", &[])
        .map_err(pg("read sensors"))?
        .iter()
        .map(|r| row(r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// One point.
pub fn sensor(c: &mut Client, code: &str) -> Result<Option<(Sensor, SensorState)>, StorageError> {
    c.query_opt("SELECT body, state FROM sensors WHERE code = $1", &[&code])
        .map_err(pg("read a sensor"))?
        .map(|r| row(code, r.get(0), r.get(1)))
        .transpose()
}

/// Adds or replaces a point's definition (its state stays); whether it
/// is new.
pub fn put_sensor(c: &mut Client, s: &Sensor) -> Result<bool, StorageError> {
    let body = serde_json::to_string(s).expect("a sensor is plain values");
    let r = c
        .query_one(
            "INSERT INTO sensors (code, body) VALUES ($1, $2)
             ON CONFLICT (code) DO UPDATE SET body = EXCLUDED.body
             RETURNING (xmax = 0)",
            &[&s.code, &body],
        )
        .map_err(pg("put a sensor"))?;
    Ok(r.get(0))
}

/// Appends readings and sets the point's state, in one transaction.
pub fn record(
    c: &mut Client,
    code: &str,
    readings: &[(Timestamp, f64)],
    state: &SensorState,
) -> Result<(), StorageError> {
    let mut tx = c.transaction().map_err(pg("begin readings"))?;
    let ins = tx
        .prepare("INSERT INTO sensor_readings (code, at, value) VALUES ($1, $2, $3)")
        .map_err(pg("add readings"))?;
    for (at, v) in readings {
        tx.execute(&ins, &[&code, &time_text(*at), v])
            .map_err(pg("add readings"))?;
    }
    tx.execute(
        "UPDATE sensors SET state = $2 WHERE code = $1",
        &[&code, &serde_json::to_string(state).expect("plain values")],
    )
    .map_err(pg("set a sensor's state"))?;
    tx.commit().map_err(pg("commit readings"))
}

/// The readings of a point from `from` to `to`, oldest first, at most
/// `limit` (the latest of them).
pub fn readings(
    c: &mut Client,
    code: &str,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<(Timestamp, f64)>, StorageError> {
    let rows = c
        .query(
            "SELECT at, value FROM sensor_readings WHERE code = $1 AND at >= $2 AND at <= $3 ORDER BY at DESC, id DESC LIMIT $4",
            &[&code, &time_text(from), &time_text(to), &(limit as i64)],
        )
        .map_err(pg("read readings"))?;
    let mut out = rows
        .iter()
        .map(|r| {
            Ok((
                read_time(r.get::<_, &str>(0), "sensor_readings.at")?,
                r.get::<_, f64>(1),
            ))
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    out.reverse();
    Ok(out)
}

/// A monitoring point held across replicas: a session advisory lock on a
/// connection kept until the guard is dropped.
pub struct SensorLock {
    client: r2d2::PooledConnection<r2d2_postgres::PostgresConnectionManager<postgres::NoTls>>,
    key: i64,
}

/// The advisory-lock key of point `code`: FNV-1a of `sensor:<code>`
/// (stable across processes and builds).
fn key(code: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "sensor:".bytes().chain(code.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

impl SensorLock {
    /// Waits for point `code` and holds it.
    pub fn take(
        mut client: r2d2::PooledConnection<
            r2d2_postgres::PostgresConnectionManager<postgres::NoTls>,
        >,
        code: &str,
    ) -> Result<SensorLock, StorageError> {
        let key = key(code);
        client
            .execute("SELECT pg_advisory_lock($1)", &[&key])
            .map_err(pg("lock a monitoring point"))?;
        Ok(SensorLock { client, key })
    }
}

impl Drop for SensorLock {
    fn drop(&mut self) {
        if let Err(e) = self
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&self.key])
        {
            tracing::warn!(error = %e, "cannot unlock a monitoring point (the connection ends it)");
        }
    }
}
