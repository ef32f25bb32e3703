//! Gi* and Mann–Kendall against PySAL's esda and pymannkendall on the same
//! inputs (`scripts/hotspot_fixtures.py` wrote the fixture).

#![allow(clippy::unwrap_used)]

use gridgov_spatial::hotspots::{gi_star, lattice, mann_kendall, queen};
use gridgov_spatial::{GridIndex, Level, assign, sample, stats};
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hotspots.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn neighbours(v: &Value) -> Vec<Vec<usize>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| {
            n.as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect()
        })
        .collect()
}

fn check_case(case: &Value, nb: &[Vec<usize>]) {
    let name = case["name"].as_str().unwrap();
    let x = floats(&case["x"]);
    let ours = gi_star(&x, &nb.to_vec(), 9999, 99, 0.05);
    for (i, g) in ours.iter().enumerate() {
        let (g_ref, z_ref, pn_ref, ps_ref) = (
            floats(&case["G"])[i],
            floats(&case["z"])[i],
            floats(&case["p_norm"])[i],
            floats(&case["p_sim"])[i],
        );
        assert!(
            (g.g - g_ref).abs() < 1e-12,
            "{name} #{i}: G {} vs {g_ref}",
            g.g
        );
        assert!(
            (g.z - z_ref).abs() < 1e-9,
            "{name} #{i}: z {} vs {z_ref}",
            g.z
        );
        assert!(
            (g.p_norm - pn_ref).abs() < 1e-6,
            "{name} #{i}: p_norm {} vs {pn_ref}",
            g.p_norm
        );
        // Different random permutations, and with integer counts many
        // permuted sums tie the observed one: we count a tie as "at least
        // as large" exactly, esda compares floating-point ratios and breaks
        // some ties the other way. So the pseudo p-values agree to within
        // their sampling error (9,999 permutations) plus that.
        let tol = 4.0 * (ps_ref * (1.0 - ps_ref) / 9999.0).sqrt() + 0.015;
        assert!(
            (g.p_sim - ps_ref).abs() < tol,
            "{name} #{i}: p_sim {} vs {ps_ref}",
            g.p_sim
        );
    }
}

#[test]
fn gi_star_on_a_lattice_matches_esda() {
    let f = fixture();
    let case = &f["gi_star"][0];
    let nb = lattice(
        case["cols"].as_u64().unwrap() as usize,
        case["rows"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        nb,
        neighbours(&case["neighbours"]),
        "the lattice's queen neighbours"
    );
    check_case(case, &nb);
}

#[test]
fn gi_star_over_the_sample_grids_matches_esda_with_the_same_queen_contiguity() {
    let f = fixture();
    let case = &f["gi_star"][1];
    let d = sample::district(&sample::SampleSpec::default());
    let grids: Vec<_> = d.areas_at(Level::Grid).collect();
    let codes: Vec<String> = grids.iter().map(|&g| d.area(g).code.clone()).collect();
    let want_codes: Vec<String> = case["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, want_codes);
    let polys: Vec<_> = grids.iter().map(|&g| d.area(g).boundary.clone()).collect();
    let nb = queen(&polys);
    let reference = neighbours(&case["neighbours"]);
    // Basic grids tile the district: the same neighbours as libpysal's
    // (shared vertices). An exclusive grid sits inside a basic grid and
    // shares no vertex with it; libpysal leaves it an island, we count the
    // grid it lies in as its neighbour (and it as the grid's).
    let basic: Vec<bool> = grids
        .iter()
        .map(|&g| d.area(g).kind != Some(gridgov_spatial::GridKind::Exclusive))
        .collect();
    for i in 0..grids.len() {
        let ours: Vec<usize> = nb[i]
            .iter()
            .copied()
            .filter(|&j| basic[i] && basic[j])
            .collect();
        let theirs: Vec<usize> = reference[i]
            .iter()
            .copied()
            .filter(|&j| basic[i] && basic[j])
            .collect();
        assert_eq!(ours, theirs, "grid {}", codes[i]);
        if !basic[i] {
            assert!(
                reference[i].is_empty() && nb[i].len() == 1,
                "grid {}",
                codes[i]
            );
        }
    }
    // The incident counts are gridgov's own assignment.
    let a = assign(&d, &GridIndex::new(&d));
    let st = stats(&d, &a);
    let counts: Vec<f64> = grids
        .iter()
        .map(|&g| {
            st.iter()
                .find(|s| s.id == g)
                .map_or(0.0, |s| s.counts.incidents as f64)
        })
        .collect();
    assert_eq!(counts, floats(&case["x"]));
    // The statistic itself, on the same weights.
    check_case(case, &reference);
}

#[test]
fn mann_kendall_matches_pymannkendall() {
    for t in fixture()["mann_kendall"].as_array().unwrap() {
        let r = mann_kendall(&floats(&t["x"]));
        assert_eq!(r.s, t["s"].as_f64().unwrap());
        assert!((r.var_s - t["var_s"].as_f64().unwrap()).abs() < 1e-9);
        assert!((r.z - t["z"].as_f64().unwrap()).abs() < 1e-9);
        assert!(
            (r.p - t["p"].as_f64().unwrap()).abs() < 1e-6,
            "{} vs {}",
            r.p,
            t["p"]
        );
    }
}
