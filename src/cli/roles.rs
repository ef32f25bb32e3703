//! `gridgov roles`: the district's list of staff roles, read and replaced
//! on the store directly (whoever can open the store is its
//! administrator). A service over the same PostGIS hears of the change; a
//! service over a GeoPackage reads it when it starts.

use std::path::PathBuf;
use std::process::ExitCode;

use gridgov_spatial::Roles;

use super::users::StoreArgs;
use super::{CliError, CliResult, OrInput};

/// `gridgov roles …`.
#[derive(Debug, clap::Subcommand)]
pub enum RolesCmd {
    /// List the roles, in the order teams are listed.
    List {
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
        /// Print JSON (the format `set` reads).
        #[arg(long)]
        json: bool,
    },
    /// Replace the list from a JSON file: `[{"code", "zh", "en",
    /// "scope": "grid"|"building"}, …]`. Every problem is named; a role
    /// someone holds is not dropped.
    Set {
        /// The JSON file (`-`: standard input).
        file: PathBuf,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `gridgov roles`.
pub fn roles(c: RolesCmd) -> CliResult {
    match c {
        RolesCmd::List { store, json } => {
            let s = store.open()?;
            let roles = s.roles()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&roles)?);
            } else {
                let rows: Vec<Vec<String>> = roles
                    .0
                    .iter()
                    .map(|r| {
                        let scope = match r.scope {
                            gridgov_spatial::RoleScope::Grid => "grid",
                            gridgov_spatial::RoleScope::Building => "building",
                        };
                        vec![r.code.to_string(), r.zh.clone(), r.en.clone(), scope.into()]
                    })
                    .collect();
                print!(
                    "{}",
                    super::table::render(&["code", "zh", "en", "scope"], &rows, &[])
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RolesCmd::Set { file, store } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?
            };
            let roles: Roles = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a list of roles: {e}", file.display()))
                .input()?;
            let roles = roles.trimmed();
            let s = store.open()?;
            let d = s.load()?;
            let problems = gridgov_app::roles::check_roles(&d, &roles);
            if !problems.is_empty() {
                return Err(CliError::input(format!(
                    "{}: the roles were not changed:\n  {}",
                    file.display(),
                    problems.join("\n  ")
                )));
            }
            s.set_roles(&roles)?;
            eprintln!("{} roles set", roles.0.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
