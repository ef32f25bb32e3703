//! The fuzz targets, briefly, on stable: the checked-in corpus and then
//! mutated inputs for `GRIDGOV_FUZZ_SECS` seconds per target (default 5).
//! A panic or a server error is a finding; the executions are printed.

use crate::util::repo;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = repo().join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn every_fuzz_target_survives_its_corpus_and_mutations_of_it() {
    let secs: u64 = std::env::var("GRIDGOV_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    for (k, (name, target)) in gridgov::fuzzing::TARGETS.iter().enumerate() {
        let c = corpus(name);
        assert!(!c.is_empty(), "{name}: no corpus");
        let r = gridgov::fuzzing::run(
            *target,
            &c,
            std::time::Duration::from_secs(secs),
            20_261_122 + k as u64,
        );
        eprintln!(
            "fuzz {name}: {} executions in {secs} s ({} from the corpus), no finding",
            r.executions, r.corpus
        );
        assert!(r.executions > r.corpus as u64);
    }
}
