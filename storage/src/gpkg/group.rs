//! Group commit: the case writes that arrive together share one
//! transaction, and so one fsync, with `synchronous=FULL` kept.
//!
//! A writer queues its write and takes the connection. Whoever holds the
//! connection takes every queued write, runs each in a savepoint of one
//! IMMEDIATE transaction (a write that fails is rolled back alone and
//! answered with its error), commits once, and answers every writer only
//! after the commit: an acknowledged write is on disk. A writer whose
//! write was done by another while it waited for the connection returns
//! that answer. SQLite has one writer at a time anyway; this only stops
//! paying one fsync per request.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use gridgov_app::{Append, AppendError, StoreError};
use gridgov_spatial::Incident;
use rusqlite::{Connection, TransactionBehavior};

use super::cases;
use crate::StorageError;

/// A write waiting for its turn, with where its answer goes.
enum Job {
    /// New incidents; their ids.
    Add(Vec<Incident>, Sender<Result<Vec<i64>, StoreError>>),
    /// Steps on cases.
    Append(Vec<Append>, Sender<Result<(), AppendError>>),
}

/// The answer to a [`Job`], held until the group commits.
enum Done {
    Added(Result<Vec<i64>, StoreError>),
    Appended(Result<(), AppendError>),
}

/// Writes queued for the next group.
#[derive(Default)]
pub(crate) struct Queue {
    jobs: Mutex<Vec<Job>>,
}

impl Queue {
    fn push(&self, job: Job) {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(job);
    }

    /// Queues new incidents; the receiver gets their ids once committed.
    pub(crate) fn add(&self, xs: Vec<Incident>) -> Receiver<Result<Vec<i64>, StoreError>> {
        let (tx, rx) = channel();
        self.push(Job::Add(xs, tx));
        rx
    }

    /// Queues steps; the receiver gets the outcome once committed.
    pub(crate) fn append(&self, batch: Vec<Append>) -> Receiver<Result<(), AppendError>> {
        let (tx, rx) = channel();
        self.push(Job::Append(batch, tx));
        rx
    }

    /// Runs every queued write in one transaction on `conn` (held by the
    /// caller) and answers each.
    pub(crate) fn run(&self, conn: &mut Connection) {
        let jobs = std::mem::take(
            &mut *self
                .jobs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if jobs.is_empty() {
            return;
        }
        let answers = run_group(conn, &jobs);
        for (job, done) in jobs.into_iter().zip(answers) {
            // A writer that went away needs no answer.
            match (job, done) {
                (Job::Add(_, reply), Done::Added(r)) => drop(reply.send(r)),
                (Job::Append(_, reply), Done::Appended(r)) => drop(reply.send(r)),
                _ => {}
            }
        }
    }
}

/// The transaction of a group failed: every write in it is answered
/// with this (none of them was written).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct GroupFailed(String);

fn run_group(conn: &mut Connection, jobs: &[Job]) -> Vec<Done> {
    let failed = |e: &StorageError| -> Vec<Done> {
        let err = || StoreError::Backend(Box::new(GroupFailed(e.to_string())));
        jobs.iter()
            .map(|j| match j {
                Job::Add(..) => Done::Added(Err(err())),
                Job::Append(..) => Done::Appended(Err(AppendError::Store(err()))),
            })
            .collect()
    };
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return failed(&super::versions::sql("begin writing cases")(e)),
    };
    let mut answers = Vec::with_capacity(jobs.len());
    for j in jobs {
        let sp = match tx.savepoint() {
            Ok(sp) => sp,
            Err(e) => return failed(&super::versions::sql("savepoint")(e)),
        };
        let done = match j {
            Job::Add(xs, _) => Done::Added(cases::add_incidents(&sp, xs).map_err(StoreError::from)),
            Job::Append(batch, _) => Done::Appended(cases::append(&sp, batch)),
        };
        let ok = matches!(done, Done::Added(Ok(_)) | Done::Appended(Ok(())));
        // A savepoint dropped without commit rolls back.
        if ok && let Err(e) = sp.commit() {
            return failed(&super::versions::sql("release savepoint")(e));
        }
        answers.push(done);
    }
    if let Err(e) = tx.commit() {
        return failed(&super::versions::sql("commit case writes")(e));
    }
    answers
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::now;
    use gridgov_app::CaseStore;
    use gridgov_spatial::workflow::{Action, CaseState};

    fn store() -> (tempfile::TempDir, crate::GpkgStore) {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("seed.json");
        let d = gridgov_spatial::sample::district(&gridgov_spatial::sample::SampleSpec::default());
        crate::save_district_file(&seed, &d).unwrap();
        let (s, _) =
            crate::GpkgStore::open_or_create(&dir.path().join("t.gpkg"), &seed, now()).unwrap();
        (dir, s)
    }

    fn accept(case: i64) -> Append {
        let s = CaseState::reported(now());
        Append {
            case,
            expected_seq: 0,
            event: s.step(&Action::Accept, "test", now(), "").unwrap(),
            location: None,
        }
    }

    #[test]
    fn writes_queued_together_commit_together_and_a_bad_one_fails_alone() {
        let (_dir, s) = store();
        let n = s.incidents().unwrap().len() as i64;
        let x = s.incident(1).unwrap().unwrap();
        let q = &s.writes;
        let first = q.add(vec![x.clone()]);
        let missing = q.append(vec![accept(n + 100)]);
        let stepped = q.append(vec![accept(2)]);
        let conflict = q.append(vec![accept(2)]);
        let two = q.add(vec![x.clone(), x]);
        q.run(&mut s.conn());
        assert_eq!(first.recv().unwrap().unwrap(), vec![n + 1]);
        assert!(matches!(missing.recv().unwrap(), Err(AppendError::NotFound(c)) if c == n + 100));
        stepped.recv().unwrap().unwrap();
        assert!(
            matches!(
                conflict.recv().unwrap(),
                Err(AppendError::Conflict { case: 2, .. })
            ),
            "the second step on case 2 saw step 0, but the first made it 1"
        );
        assert_eq!(two.recv().unwrap().unwrap(), vec![n + 2, n + 3]);
        assert_eq!(s.incidents().unwrap().len() as i64, n + 3);
        assert_eq!(s.steps(Some(2)).unwrap().len(), 1);
        assert!(q.jobs.lock().unwrap().is_empty());
    }

    #[test]
    fn eight_writers_at_once_each_get_their_own_ids_and_every_row_is_kept() {
        let (_dir, s) = store();
        let n = s.incidents().unwrap().len() as i64;
        let x = s.incident(1).unwrap().unwrap();
        let ids: Vec<i64> = std::thread::scope(|scope| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..40)
                            .flat_map(|_| s.add_incidents(std::slice::from_ref(&x)).unwrap())
                            .collect::<Vec<i64>>()
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (n + 1..=n + 320).collect::<Vec<_>>());
        assert_eq!(s.incidents().unwrap().len() as i64, n + 320);
    }
}
