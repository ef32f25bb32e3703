//! `gridgov validate`.

use std::process::ExitCode;

use gridgov_spatial::validate::{count, to_feature_collection};
use gridgov_spatial::{District, GridIndex, Severity, ValidationOptions, assign, validate};

use super::CliResult;
use super::table::render;

/// Validates and prints every problem; exit code 1 when there are errors.
pub fn run(d: &District, json: bool) -> CliResult {
    let a = assign(d, &GridIndex::new(d));
    let problems = validate(d, &a, &ValidationOptions::default());
    let (errors, warnings) = (
        count(&problems, Severity::Error),
        count(&problems, Severity::Warning),
    );
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_feature_collection(&problems))?
        );
    } else {
        let rows: Vec<Vec<String>> = problems
            .iter()
            .map(|p| {
                vec![
                    format!("{:?}", p.severity).to_lowercase(),
                    serde_json::to_value(p.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    p.message.clone(),
                ]
            })
            .collect();
        if !rows.is_empty() {
            print!("{}", render(&["severity", "kind", "problem"], &rows, &[]));
        }
        println!("{errors} errors, {warnings} warnings");
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
