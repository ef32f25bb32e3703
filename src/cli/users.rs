//! `gridgov users`, `gridgov tokens`, `gridgov audit`: accounts on the
//! store directly (whoever can open the store is its administrator).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use gridgov_spatial::access::Role;

use super::{CliError, CliResult, OrInput};
use gridgov_app::accounts::{self, AuditQuery, TokenKind, User};
use gridgov_app::{Revoke, Store};

/// Where the accounts are.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// The store (GeoPackage or `postgres://` URL).
    #[arg(long, value_name = "FILE|URL", default_value = gridgov_storage::DEFAULT_GPKG)]
    db: PathBuf,
    /// District JSON the store is created from when missing.
    #[arg(long, value_name = "FILE", default_value = gridgov_storage::DEFAULT_DISTRICT)]
    seed: PathBuf,
}

impl StoreArgs {
    pub(super) fn open(&self) -> Result<Arc<dyn Store>, Box<dyn std::error::Error>> {
        Ok(gridgov_storage::open(&self.db.to_string_lossy(), &self.seed, crate::cli::now())?.store)
    }
}

/// `gridgov users …`.
#[derive(Debug, clap::Subcommand)]
pub enum UsersCmd {
    /// List the users.
    List {
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a user; prints a generated password unless --password-stdin.
    Add {
        /// Sign-in name.
        name: String,
        /// admin, planner, command_center, grid_staff, department_handler
        /// or public.
        #[arg(long)]
        role: String,
        /// A grid they serve (grid staff; repeat for more).
        #[arg(long = "grid", value_name = "CODE")]
        grids: Vec<String>,
        /// Their department (department handlers).
        #[arg(long)]
        department: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a user: role, grids (replacing them), department, password,
    /// disabled. A new password or disabling revokes their tokens.
    Set {
        /// Sign-in name.
        name: String,
        /// New role.
        #[arg(long)]
        role: Option<String>,
        /// The grids they serve, replacing the old ones (repeat).
        #[arg(long = "grid", value_name = "CODE")]
        grids: Vec<String>,
        /// Their department.
        #[arg(long)]
        department: Option<String>,
        /// Read a new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Disable: no sign-in, tokens revoked.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable again.
        #[arg(long)]
        enable: bool,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `gridgov tokens …`.
#[derive(Debug, clap::Subcommand)]
pub enum TokensCmd {
    /// Issue an API token for a user; prints the token (shown once).
    Issue {
        /// Whose.
        user: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        label: String,
        /// Days it lasts.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (ids, owners, expiry; never the tokens).
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by id (or all of --user's).
    Revoke {
        /// The token's id (as listed).
        id: Option<String>,
        /// Every token of this user.
        #[arg(long)]
        user: Option<String>,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `gridgov audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only this user's.
    #[arg(long)]
    user: Option<String>,
    /// Only this kind: login, login_failed, logout, read_personal, edit,
    /// denied, account.
    #[arg(long)]
    action: Option<String>,
    /// Only objects starting so (`/households`).
    #[arg(long)]
    object: Option<String>,
    /// From this time (RFC 3339, or a date: its start in Beijing).
    #[arg(long)]
    since: Option<String>,
    /// Most lines.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// The store.
    #[command(flatten)]
    store: StoreArgs,
}

fn role(s: &str) -> Result<Role, CliError> {
    Role::parse(s).ok_or_else(|| {
        CliError::input(format!(
            "no role {s:?}; roles: {}",
            Role::ALL.map(Role::name).join(", ")
        ))
    })
}

fn read_password() -> Result<String, Box<dyn std::error::Error>> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn known(store: &dyn Store) -> Result<impl Fn(&str) -> bool + use<>, Box<dyn std::error::Error>> {
    let codes: std::collections::HashSet<String> = store
        .grids_at(store.latest_version()?)?
        .into_iter()
        .map(|g| g.code)
        .collect();
    Ok(move |g: &str| codes.contains(g))
}

fn audit_line(
    store: &dyn Store,
    what: &str,
    object: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let who = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    store.append_audit(&[accounts::AuditEntry {
        at: crate::cli::now(),
        user: format!("cli:{who}"),
        action: "account".into(),
        object: object.into(),
        detail: what.into(),
        client: None,
    }])?;
    Ok(())
}

/// Runs `gridgov users …`.
pub fn users(c: UsersCmd) -> CliResult {
    match c {
        UsersCmd::List { store, json } => {
            let s = store.open()?;
            let us = s.users()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&us)?);
            } else {
                let rows: Vec<Vec<String>> = us
                    .iter()
                    .map(|u| {
                        vec![
                            u.name.clone(),
                            u.role.name().into(),
                            u.grids.join(","),
                            u.department.clone().unwrap_or_default(),
                            if u.disabled { "disabled" } else { "" }.into(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    super::table::render(&["user", "role", "grids", "department", ""], &rows, &[])
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UsersCmd::Add {
            name,
            role: r,
            grids,
            department,
            password_stdin,
            store,
        } => {
            let s = store.open()?;
            let u = User {
                name: name.clone(),
                role: role(&r)?,
                grids,
                department,
                disabled: false,
                created: crate::cli::now(),
            };
            let password = if password_stdin {
                read_password()?
            } else {
                accounts::random_password()?
            };
            accounts::create_user(s.as_ref(), &u, &password, &known(s.as_ref())?)?;
            audit_line(
                s.as_ref(),
                &format!("added as {}", u.role.name()),
                &format!("/users/{name}"),
            )?;
            if password_stdin {
                eprintln!("added {name} ({})", u.role.name());
            } else {
                println!("added {name} ({}) with password {password}", u.role.name());
                eprintln!("the password is not shown again");
            }
            Ok(ExitCode::SUCCESS)
        }
        UsersCmd::Set {
            name,
            role: r,
            grids,
            department,
            password_stdin,
            disable,
            enable,
            store,
        } => {
            let s = store.open()?;
            let mut u = s
                .user(&name)?
                .ok_or_else(|| accounts::AccountError::NoUser(name.clone()))?
                .user;
            if let Some(r) = r {
                u.role = role(&r)?;
                if u.role != Role::GridStaff {
                    u.grids.clear();
                }
                if u.role != Role::DepartmentHandler {
                    u.department = None;
                }
            }
            if !grids.is_empty() {
                u.grids = grids;
            }
            if department.is_some() {
                u.department = department;
            }
            if disable {
                u.disabled = true;
            }
            if enable {
                u.disabled = false;
            }
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            accounts::update_user(
                s.as_ref(),
                &u,
                password.as_deref(),
                &known(s.as_ref())?,
                crate::cli::now(),
            )?;
            audit_line(s.as_ref(), "changed", &format!("/users/{name}"))?;
            eprintln!(
                "{name}: {}{}{}",
                u.role.name(),
                if u.grids.is_empty() {
                    String::new()
                } else {
                    format!(", grids {}", u.grids.join(","))
                },
                if u.disabled { ", disabled" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `gridgov tokens …`.
pub fn tokens(c: TokensCmd) -> CliResult {
    match c {
        TokensCmd::Issue {
            user,
            label,
            days,
            store,
        } => {
            if !(1..=3650).contains(&days) {
                return Err(CliError::input("--days must be 1 to 3650"));
            }
            let s = store.open()?;
            let (token, rec) = accounts::issue_token(
                s.as_ref(),
                &user,
                TokenKind::Api,
                &label,
                i64::from(days) * 86_400,
                crate::cli::now(),
            )?;
            audit_line(
                s.as_ref(),
                &format!("issued token {}", rec.id),
                &format!("/tokens/{}", rec.id),
            )?;
            println!("{token}");
            eprintln!(
                "token {} for {user}, until {}; it is not shown again",
                rec.id, rec.expires
            );
            Ok(ExitCode::SUCCESS)
        }
        TokensCmd::List { user, store } => {
            let s = store.open()?;
            let rows: Vec<Vec<String>> = s
                .tokens(user.as_deref())?
                .into_iter()
                .map(|t| {
                    vec![
                        t.id,
                        t.user,
                        t.kind.as_str().into(),
                        t.label,
                        t.expires.to_string(),
                        t.revoked
                            .map(|r| format!("revoked {r}"))
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            print!(
                "{}",
                super::table::render(&["id", "user", "kind", "label", "expires", ""], &rows, &[])
            );
            Ok(ExitCode::SUCCESS)
        }
        TokensCmd::Revoke { id, user, store } => {
            if id.is_none() && user.is_none() {
                return Err(CliError::input("name a token id or --user"));
            }
            let s = store.open()?;
            let which = match (id.clone(), user.clone()) {
                (Some(id), of) => Revoke::Token { id, of },
                (None, Some(u)) => Revoke::AllOf(u),
                (None, None) => unreachable!("checked above"),
            };
            let n = s.revoke_tokens(&which, crate::cli::now())?;
            if n == 0 {
                return Err(CliError::input("no such token (or already revoked)"));
            }
            audit_line(
                s.as_ref(),
                &format!("revoked {n} token(s)"),
                &format!("/tokens/{}", id.as_deref().unwrap_or("*")),
            )?;
            eprintln!("revoked {n} token(s)");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `gridgov audit`.
pub fn audit(a: &AuditArgs) -> CliResult {
    let s = a.store.open()?;
    let rows = s.audit_log(&AuditQuery {
        user: a.user.clone(),
        action: a.action.clone(),
        object: a.object.clone(),
        since: a
            .since
            .as_deref()
            .map(|t| {
                gridgov_spatial::time::parse_date_or_instant(
                    t,
                    gridgov_spatial::time::CHINA_OFFSET_S,
                )
            })
            .transpose()
            .map_err(|e| format!("--since: {e}"))
            .input()?,
        limit: Some(a.limit),
        ..AuditQuery::default()
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|r| {
                let (id, e) = (r.id, r.entry);
                vec![
                    id.to_string(),
                    e.at.to_string(),
                    e.user,
                    e.action,
                    e.object,
                    e.detail,
                    e.client.unwrap_or_default(),
                ]
            })
            .collect();
        print!(
            "{}",
            super::table::render(
                &["id", "at", "user", "action", "object", "detail", "client"],
                &rows,
                &[0]
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}
