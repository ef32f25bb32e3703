//! Accounts: users with argon2id password hashes, the tokens they sign in
//! with, and the audit log. The rules live here; the store keeps the
//! rows ([`crate::ports::AccountStore`], [`crate::ports::AuditStore`]) and
//! the service and CLI are adapters.
//!
//! A token is 32 random bytes (`gg_` and 64 hex digits) shown once; the
//! store keeps only its BLAKE2b-256 digest, so a copy of the store signs
//! nobody in. Sign-in tokens (`session`) last [`SESSION_HOURS`]; API
//! tokens last as long as they are issued for. Either can be revoked,
//! and disabling a user revokes all of theirs.
//!
//! ```
//! use gridgov_app::accounts::{hash_password, verify_password, new_token, token_digest};
//! let h = hash_password("correct horse battery").unwrap();
//! assert!(h.starts_with("$argon2id$"));
//! assert!(verify_password("correct horse battery", &h));
//! assert!(!verify_password("wrong horse battery", &h));
//! let t = new_token().unwrap();
//! assert_eq!(token_digest(&t).len(), 64);
//! ```

use gridgov_spatial::Timestamp;
use gridgov_spatial::access::{Principal, Role};
use serde::{Deserialize, Serialize};

use crate::ports::{AccountStore, AuditStore, Revoke, StoreError, UserRecord};

/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// The longest password accepted (argon2 takes any length; this keeps
/// requests small).
pub const MAX_PASSWORD: usize = 1024;

/// Sign-in attempts from one address: this many at once, then one every
/// [`LOGIN_ADDRESS_EVERY_S`] seconds.
pub const LOGIN_ADDRESS_BURST: f64 = 20.0;
/// See [`LOGIN_ADDRESS_BURST`].
pub const LOGIN_ADDRESS_EVERY_S: f64 = 3.0;
/// Failed sign-ins as one name: this many, then one a minute.
pub const LOGIN_NAME_BURST: f64 = 10.0;
/// See [`LOGIN_NAME_BURST`].
pub const LOGIN_NAME_EVERY_S: f64 = 60.0;

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Grid codes they serve (grid staff).
    #[serde(default)]
    pub grids: Vec<String>,
    /// Department (department handlers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// A disabled user cannot sign in and their tokens do not work.
    #[serde(default)]
    pub disabled: bool,
    /// When the user was created.
    pub created: Timestamp,
}

impl User {
    /// The principal this user acts as.
    ///
    /// ```
    /// use gridgov_app::accounts::User;
    /// use gridgov_spatial::access::Role;
    /// let u = User { name: "li".into(), role: Role::GridStaff, grids: vec!["G1".into()], department: None, disabled: false, created: gridgov_spatial::Timestamp::UNIX_EPOCH };
    /// assert!(u.principal().serves(Some("G1")));
    /// ```
    pub fn principal(&self) -> Principal {
        let mut p = Principal::new(self.name.clone(), self.role).with_grids(self.grids.clone());
        p.department.clone_from(&self.department);
        p
    }
}

/// What kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// From signing in with a password.
    Session,
    /// Issued for a program (an API token).
    Api,
}

impl TokenKind {
    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Api => "api",
        }
    }

    /// The kind of a stored name.
    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "session" => Some(TokenKind::Session),
            "api" => Some(TokenKind::Api),
            _ => None,
        }
    }
}

/// A token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// A short public id (the digest's first 12 hex digits), for listing
    /// and revoking.
    pub id: String,
    /// BLAKE2b-256 of the token, hex.
    #[serde(skip)]
    pub digest: String,
    /// Whose.
    pub user: String,
    /// Session or API.
    pub kind: TokenKind,
    /// What it is for.
    #[serde(default)]
    pub label: String,
    /// When it was made.
    pub created: Timestamp,
    /// When it stops working.
    pub expires: Timestamp,
    /// When it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Timestamp>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who (the signed-in user; `anonymous` for nobody).
    pub user: String,
    /// What kind of act: `login`, `login_failed`, `logout`, `read_personal`,
    /// `edit`, `denied`, `account`.
    pub action: String,
    /// On what: a path such as `/households/12` or `/incidents/7/steps`.
    pub object: String,
    /// Details: the method and status of an edit, what was read.
    #[serde(default)]
    pub detail: String,
    /// The client's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// Which audit lines to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AuditQuery {
    /// Only this user's.
    pub user: Option<String>,
    /// Only this kind.
    pub action: Option<String>,
    /// Only objects starting with this.
    pub object: Option<String>,
    /// From this time on (inclusive).
    pub since: Option<Timestamp>,
    /// Before this time (exclusive).
    pub until: Option<Timestamp>,
    /// Only lines older than this id (paging).
    pub before: Option<i64>,
    /// At most this many (default 100, at most 10,000).
    pub limit: Option<usize>,
}

impl AuditQuery {
    /// The limit to apply.
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(100).clamp(1, 10_000)
    }
}

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A bad user name.
    #[error(
        "{0:?} is not a user name: use 1 to 64 letters, digits, `.`, `_`, `-` or `@`, no spaces"
    )]
    BadName(String),
    /// A name kept for nobody in particular.
    #[error("{0:?} is a reserved name (it stands for nobody in particular); choose another")]
    Reserved(String),
    /// A password too short or too long.
    #[error("a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")]
    BadPassword,
    /// Grid staff need grids; others must not have them.
    #[error("{0}")]
    BadAssignment(String),
    /// The user exists already.
    #[error("there is already a user {0:?}")]
    Exists(String),
    /// No such user.
    #[error("there is no user {0:?}")]
    NoUser(String),
    /// No such token.
    #[error("there is no token {0:?}")]
    NoToken(String),
    /// Wrong name or password, or a disabled user (deliberately alike).
    #[error("wrong user name or password")]
    BadLogin,
    /// The token is unknown, expired or revoked, or its user disabled.
    #[error("the token is not valid (unknown, expired or revoked)")]
    BadToken,
    /// Hashing or randomness failed.
    #[error("cannot {0}")]
    Crypto(&'static str),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The argon2id hash (PHC string) of a password, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    use argon2::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| AccountError::Crypto("hash the password"))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Lower-case hex digits. Kept by hand: a few lines for the two places
/// tokens are spelt (one on every request, so no formatting machinery),
/// where a crate would add a dependency for one call.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// A fresh token: `gg_` and 64 hex digits from the system's randomness.
pub fn new_token() -> Result<String, AccountError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|_| AccountError::Crypto("draw random bytes"))?;
    Ok(format!("gg_{}", hex(&b)))
}

/// A fresh password of 20 letters and digits (no look-alikes).
///
/// ```
/// let p = gridgov_app::accounts::random_password().unwrap();
/// assert_eq!(p.chars().count(), 20);
/// ```
pub fn random_password() -> Result<String, AccountError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 20];
    getrandom::fill(&mut b).map_err(|_| AccountError::Crypto("draw random bytes"))?;
    // 256 is not a multiple of the alphabet's 55 letters; draw again
    // where a byte falls in the uneven top so every letter is as likely.
    let n = ALPHABET.len();
    let top = 256 - 256 % n;
    let mut out = String::with_capacity(20);
    let mut pool = b.to_vec();
    while out.len() < 20 {
        if pool.is_empty() {
            let mut more = [0u8; 20];
            getrandom::fill(&mut more).map_err(|_| AccountError::Crypto("draw random bytes"))?;
            pool.extend_from_slice(&more);
        }
        let x = pool.pop().map_or(0, usize::from);
        if x < top {
            out.push(char::from(ALPHABET[x % n]));
        }
    }
    Ok(out)
}

/// The hex BLAKE2b-256 digest of a token, the form it is stored in.
pub fn token_digest(token: &str) -> String {
    use blake2::Digest;
    hex(&blake2::Blake2b256::digest(token.as_bytes()))
}

/// Names no account may take: they stand for nobody in particular in
/// logs and answers (an account named `anonymous` would be handed every
/// anonymous caller's cases).
pub const RESERVED_NAMES: [&str; 6] = [
    "anonymous",
    "nobody",
    "system",
    "public",
    "everyone",
    "gridgov",
];

/// Checks a user name.
///
/// ```
/// use gridgov_app::accounts::check_name;
/// assert!(check_name("li.wei").is_ok());
/// assert!(check_name("Anonymous").is_err());
/// assert!(check_name("two words").is_err());
/// ```
pub fn check_name(name: &str) -> Result<(), AccountError> {
    if RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(AccountError::Reserved(name.to_owned()));
    }
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadName(name.to_owned()))
    }
}

/// Checks a password's length.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let n = password.chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        Ok(())
    } else {
        Err(AccountError::BadPassword)
    }
}

/// Checks that a user's grids and department fit their role, and that
/// every grid exists (`known` tells).
pub fn check_assignment(u: &User, known: &dyn Fn(&str) -> bool) -> Result<(), AccountError> {
    let bad = |m: String| Err(AccountError::BadAssignment(m));
    if u.role == Role::GridStaff && u.grids.is_empty() {
        return bad(format!(
            "grid staff serve grids: give {} at least one grid",
            u.name
        ));
    }
    if u.role != Role::GridStaff && !u.grids.is_empty() {
        return bad(format!(
            "only grid staff are assigned to grids, and {} is {}",
            u.name,
            u.role.name()
        ));
    }
    if u.role == Role::DepartmentHandler && u.department.as_deref().is_none_or(str::is_empty) {
        return bad(format!(
            "department handlers belong to a department: give {} one",
            u.name
        ));
    }
    if let Some(g) = u.grids.iter().find(|g| !known(g)) {
        return bad(format!("there is no grid {g:?}"));
    }
    Ok(())
}

/// Creates a user with `password`. The store refuses a name taken.
pub fn create_user(
    store: &dyn AccountStore,
    user: &User,
    password: &str,
    known_grid: &dyn Fn(&str) -> bool,
) -> Result<(), AccountError> {
    check_name(&user.name)?;
    check_password(password)?;
    check_assignment(user, known_grid)?;
    let password_hash = hash_password(password)?;
    let rec = UserRecord {
        user: user.clone(),
        password_hash,
    };
    if store.create_user(&rec)? {
        Ok(())
    } else {
        Err(AccountError::Exists(user.name.clone()))
    }
}

/// Changes a user's role, grids, department or disabled flag, and their
/// password when one is given. Disabling revokes their tokens.
pub fn update_user(
    store: &dyn AccountStore,
    user: &User,
    password: Option<&str>,
    known_grid: &dyn Fn(&str) -> bool,
    now: Timestamp,
) -> Result<(), AccountError> {
    check_assignment(user, known_grid)?;
    let hash = match password {
        Some(p) => {
            check_password(p)?;
            Some(hash_password(p)?)
        }
        None => None,
    };
    if !store.update_user(user, hash.as_deref())? {
        return Err(AccountError::NoUser(user.name.clone()));
    }
    if user.disabled || hash.is_some() {
        store.revoke_tokens(&Revoke::AllOf(user.name.clone()), now)?;
    }
    Ok(())
}

/// Issues a token for `user` lasting `seconds` from `now`: the token
/// (shown once) and its record.
pub fn issue_token(
    store: &dyn AccountStore,
    user: &str,
    kind: TokenKind,
    label: &str,
    seconds: i64,
    now: Timestamp,
) -> Result<(String, TokenRecord), AccountError> {
    match store.user(user)? {
        Some(r) if !r.user.disabled => {}
        _ => return Err(AccountError::NoUser(user.to_owned())),
    }
    let token = new_token()?;
    let digest = token_digest(&token);
    let rec = TokenRecord {
        id: digest[..12].to_owned(),
        digest,
        user: user.to_owned(),
        kind,
        label: label.chars().take(200).collect(),
        created: now,
        expires: gridgov_spatial::time::from_epoch(now.as_second().saturating_add(seconds)),
        revoked: None,
    };
    store.add_token(&rec)?;
    Ok((token, rec))
}

/// A successful sign-in: the token (shown once), its record and the user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session token.
    pub token: String,
    /// Its record.
    pub record: TokenRecord,
    /// Who signed in.
    pub user: User,
}

/// Signs in: checks the password and issues a session token.
pub fn login(
    store: &dyn AccountStore,
    name: &str,
    password: &str,
    now: Timestamp,
) -> Result<SignedIn, AccountError> {
    if password.chars().count() > MAX_PASSWORD || name.chars().count() > 64 {
        return Err(AccountError::BadLogin);
    }
    let found = store.user(name)?;
    let Some(r) = found.filter(|r| !r.user.disabled) else {
        // Spend the same time as a real check, so timing does not tell
        // which names exist.
        let _ = verify_password(password, dummy_hash());
        return Err(AccountError::BadLogin);
    };
    if !verify_password(password, &r.password_hash) {
        return Err(AccountError::BadLogin);
    }
    let (token, record) = issue_token(
        store,
        &r.user.name,
        TokenKind::Session,
        "sign-in",
        SESSION_HOURS * 3600,
        now,
    )?;
    Ok(SignedIn {
        token,
        record,
        user: r.user,
    })
}

/// Changes one's own password after checking the current one; every
/// token of the user is revoked (sign in again).
pub fn change_password(
    store: &dyn AccountStore,
    name: &str,
    current: &str,
    new: &str,
    now: Timestamp,
) -> Result<(), AccountError> {
    let r = store
        .user(name)?
        .ok_or_else(|| AccountError::NoUser(name.to_owned()))?;
    if current.chars().count() > MAX_PASSWORD || !verify_password(current, &r.password_hash) {
        return Err(AccountError::BadLogin);
    }
    check_password(new)?;
    let h = hash_password(new)?;
    store.update_user(&r.user, Some(&h))?;
    store.revoke_tokens(&Revoke::AllOf(name.to_owned()), now)?;
    Ok(())
}

/// A hash of no one's password, made once, to verify unknown names
/// against.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("no one's password at all").unwrap_or_default())
}

/// The user a token belongs to, if the token works at `now`.
pub fn authenticate(
    store: &dyn AccountStore,
    token: &str,
    now: Timestamp,
) -> Result<(TokenRecord, User), AccountError> {
    if !token.starts_with("gg_") || token.len() != 67 {
        return Err(AccountError::BadToken);
    }
    let rec = store
        .token(&token_digest(token))?
        .ok_or(AccountError::BadToken)?;
    if rec.revoked.is_some() || rec.expires <= now {
        return Err(AccountError::BadToken);
    }
    match store.user(&rec.user)? {
        Some(r) if !r.user.disabled => Ok((rec, r.user)),
        _ => Err(AccountError::BadToken),
    }
}

/// A token for user `name`, creating them with `role`, `grids` and
/// `department` (and a random password) when missing: how scripts and
/// tests get going on a fresh store. A day long.
pub fn ensure_user_token(
    store: &dyn AccountStore,
    name: &str,
    role: Role,
    grids: &[&str],
    department: Option<&str>,
    now: Timestamp,
) -> Result<String, AccountError> {
    if store.user(name)?.is_none() {
        let u = User {
            name: name.into(),
            role,
            grids: grids.iter().map(|g| (*g).to_owned()).collect(),
            department: department.map(String::from),
            disabled: false,
            created: now,
        };
        // Another caller may have made them meanwhile: fine.
        match create_user(store, &u, &random_password()?, &|_| true) {
            Ok(()) | Err(AccountError::Exists(_)) => {}
            Err(e) => return Err(e),
        }
    }
    issue_token(store, name, TokenKind::Api, "", 86_400, now).map(|t| t.0)
}

/// On first start (no users at all): creates `admin` with a random
/// password, audits it, and returns the password, to be shown once.
pub fn ensure_first_admin(
    store: &dyn AccountStore,
    audit: &dyn AuditStore,
    now: Timestamp,
) -> Result<Option<String>, AccountError> {
    if !store.users()?.is_empty() {
        return Ok(None);
    }
    let password = random_password()?;
    let admin = User {
        name: "admin".into(),
        role: Role::Admin,
        grids: Vec::new(),
        department: None,
        disabled: false,
        created: now,
    };
    create_user(store, &admin, &password, &|_| true)?;
    audit.append_audit(&[AuditEntry {
        at: now,
        user: "system".into(),
        action: "account".into(),
        object: "/users/admin".into(),
        detail: "first start: created admin".into(),
        client: None,
    }])?;
    Ok(Some(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_the_blake2b_256_of_the_token_in_lower_case_hex() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        // The BLAKE2b-256 of "abc", as Python's hashlib.blake2b(b"abc",
        // digest_size=32) gives it.
        assert_eq!(
            token_digest("abc"),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
    }

    #[test]
    fn a_random_password_uses_the_alphabet_and_differs_each_time() {
        let a = random_password().unwrap();
        let b = random_password().unwrap();
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c))
        );
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // So a login for an unknown name costs a real verification.
        assert!(dummy_hash().starts_with("$argon2id$"));
    }

    #[test]
    fn names_and_assignments_are_checked() {
        assert!(check_name("li.wei@7").is_ok());
        assert!(check_name("李伟").is_ok());
        for bad in ["", "a b", "x/y", &"n".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let mut u = User {
            name: "li".into(),
            role: Role::GridStaff,
            grids: vec![],
            department: None,
            disabled: false,
            created: Timestamp::UNIX_EPOCH,
        };
        assert!(check_assignment(&u, &|_| true).is_err());
        u.grids = vec!["G9".into()];
        assert!(check_assignment(&u, &|g| g == "G1").is_err());
        assert!(check_assignment(&u, &|_| true).is_ok());
        u.role = Role::Planner;
        assert!(check_assignment(&u, &|_| true).is_err());
        u.grids.clear();
        u.role = Role::DepartmentHandler;
        assert!(check_assignment(&u, &|_| true).is_err());
        assert!(check_password("short").is_err());
    }
}
