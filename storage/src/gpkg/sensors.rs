//! Monitoring points in the GeoPackage: `sensors` (each point's
//! definition and state as JSON, by code) and the append-only
//! `sensor_readings` (code, time, value), indexed by code and time.

use gridgov_spatial::Timestamp;
use gridgov_spatial::sensors::{Sensor, SensorState};
use rusqlite::{Connection, OptionalExtension, params};

use super::versions::sql;
use crate::{StorageError, read_time, time_text};

/// Creates the tables when missing.
pub fn ensure_schema(conn: &Connection) -> Result<(), StorageError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS sensors (
           code TEXT PRIMARY KEY NOT NULL,
           body TEXT NOT NULL,
           state TEXT NOT NULL DEFAULT '{}');
         CREATE TABLE IF NOT EXISTS sensor_readings (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           code TEXT NOT NULL,
           at TEXT NOT NULL,
           value REAL NOT NULL);
         CREATE INDEX IF NOT EXISTS sensor_readings_code_at ON sensor_readings(code, at);
         CREATE TRIGGER IF NOT EXISTS sensor_readings_append_only_update BEFORE UPDATE ON sensor_readings
           BEGIN SELECT RAISE(ABORT, 'sensor_readings is append-only'); END;
         CREATE TRIGGER IF NOT EXISTS sensor_readings_append_only_delete BEFORE DELETE ON sensor_readings
           BEGIN SELECT RAISE(ABORT, 'sensor_readings is append-only'); END;",
    )
    .map_err(sql("create the sensor tables"))
}

fn row(code: &str, body: &str, state: &str) -> Result<(Sensor, SensorState), StorageError> {
    let bad = |e: serde_json::Error| StorageError::Corrupt(format!("sensor {code:?}: {e}"));
    Ok((
        serde_json::from_str(body).map_err(bad)?,
        serde_json::from_str(state).map_err(bad)?,
    ))
}

/// Every point, by code.
pub fn sensors(conn: &Connection) -> Result<Vec<(Sensor, SensorState)>, StorageError> {
    let mut st = conn
        .prepare_cached("SELECT code, body, state FROM sensors ORDER BY code")
        .map_err(sql("read sensors"))?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(sql("read sensors"))?;
    let mut out = Vec::new();
    for x in rows {
        let (c, b, s) = x.map_err(sql("read sensors"))?;
        out.push(row(&c, &b, &s)?);
    }
    Ok(out)
}

/// One point.
pub fn sensor(
    conn: &Connection,
    code: &str,
) -> Result<Option<(Sensor, SensorState)>, StorageError> {
    conn.query_row(
        "SELECT body, state FROM sensors WHERE code = ?1",
        [code],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )
    .optional()
    .map_err(sql("read a sensor"))?
    .map(|(b, s)| row(code, &b, &s))
    .transpose()
}

/// Adds or replaces a point's definition (its state stays); whether it
/// is new.
pub fn put_sensor(conn: &Connection, s: &Sensor) -> Result<bool, StorageError> {
    let body = serde_json::to_string(s).expect("a sensor is plain values");
    let n = conn
        .execute(
            "UPDATE sensors SET body = ?2 WHERE code = ?1",
            params![s.code, body],
        )
        .map_err(sql("change a sensor"))?;
    if n == 1 {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO sensors (code, body) VALUES (?1, ?2)",
        params![s.code, body],
    )
    .map_err(sql("add a sensor"))?;
    Ok(true)
}

/// Appends readings and sets the point's state, in one transaction.
pub fn record(
    conn: &mut Connection,
    code: &str,
    readings: &[(Timestamp, f64)],
    state: &SensorState,
) -> Result<(), StorageError> {
    let tx = conn.transaction().map_err(sql("begin readings"))?;
    {
        let mut ins = tx
            .prepare_cached("INSERT INTO sensor_readings (code, at, value) VALUES (?1, ?2, ?3)")
            .map_err(sql("add readings"))?;
        for (at, v) in readings {
            ins.execute(params![code, time_text(*at), v])
                .map_err(sql("add readings"))?;
        }
    }
    tx.execute(
        "UPDATE sensors SET state = ?2 WHERE code = ?1",
        params![code, serde_json::to_string(state).expect("plain values")],
    )
    .map_err(sql("set a sensor's state"))?;
    tx.commit().map_err(sql("commit readings"))
}

/// The readings of a point from `from` to `to`, oldest first, at most
/// `limit` (the latest of them).
pub fn readings(
    conn: &Connection,
    code: &str,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<(Timestamp, f64)>, StorageError> {
    let mut st = conn
        .prepare_cached(
            "SELECT at, value FROM sensor_readings WHERE code = ?1 AND at >= ?2 AND at <= ?3 ORDER BY at DESC, id DESC LIMIT ?4",
        )
        .map_err(sql("read readings"))?;
    let rows = st
        .query_map(
            params![code, time_text(from), time_text(to), limit as i64],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)),
        )
        .map_err(sql("read readings"))?;
    let mut out = Vec::new();
    for x in rows {
        let (at, v) = x.map_err(sql("read readings"))?;
        out.push((read_time(&at, "sensor_readings.at")?, v));
    }
    out.reverse();
    Ok(out)
}
