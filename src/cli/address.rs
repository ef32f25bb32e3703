//! `gridgov lookup --address`.

use std::process::ExitCode;

use gridgov_spatial::address::parse;
use gridgov_spatial::{AddressIndex, District, GridIndex, assign};

use super::CliResult;
use super::table::render;

/// Prints ranked candidates for an address; exit code 1 when none.
pub fn lookup_address(d: &District, json: bool, address: &str, limit: usize) -> CliResult {
    let a = assign(d, &GridIndex::new(d));
    let idx = AddressIndex::new(d, &a);
    let matches = idx.lookup(d, address, limit);
    if json {
        let out = serde_json::json!({
            "query": address,
            "parsed": parse(address),
            "candidates": matches.iter().map(|m| {
                let grid = m.grid.map(|g| {
                    let chain: Vec<_> = d.chain(g).into_iter().map(|x| gridgov_spatial::AreaSummary::of(d, x)).collect();
                    serde_json::json!(chain)
                });
                serde_json::json!({
                    "building": d.buildings[m.building.index()].code,
                    "unit": m.unit.map(|u| d.units[u.index()].label.clone()),
                    "address": m.address,
                    "confidence": (m.confidence * 1000.0).round() / 1000.0,
                    "matched": m.reasons,
                    "chain": grid,
                })
            }).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let p = parse(address);
        println!("parsed    {}", serde_json::to_string(&p)?);
        let rows: Vec<Vec<String>> = matches
            .iter()
            .map(|m| {
                let (gcode, gname, chain) =
                    m.grid
                        .map_or((String::new(), String::new(), String::new()), |g| {
                            let c = d.chain(g);
                            (
                                d.area(g).code.clone(),
                                d.area(g).name.clone(),
                                c.iter()
                                    .skip(1)
                                    .map(|&x| d.area(x).name.clone())
                                    .collect::<Vec<_>>()
                                    .join(" ← "),
                            )
                        });
                vec![
                    format!("{:.2}", m.confidence),
                    d.buildings[m.building.index()].code.clone(),
                    m.address.clone(),
                    m.unit
                        .map_or(String::new(), |u| d.units[u.index()].label.clone()),
                    gcode,
                    gname,
                    chain,
                ]
            })
            .collect();
        if rows.is_empty() {
            println!("no building matches {address:?}");
        } else {
            print!(
                "{}",
                render(
                    &[
                        "conf",
                        "building",
                        "address",
                        "unit",
                        "grid",
                        "grid name",
                        "community ← street"
                    ],
                    &rows,
                    &[0]
                )
            );
        }
    }
    Ok(if matches.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
