//! Why a command stopped, and the exit code that says so.
//!
//! Exit codes: 0 done; 1 done with a negative answer (validation found
//! errors, a point outside every grid, no address matched) or failed for a
//! reason other than its input (a store or service unreachable, a file that
//! cannot be written, no GPU); 2 the input was refused — an argument, a
//! named file, a row — and nothing was changed. Clap's own usage errors
//! exit 2 as well.

use std::error::Error;
use std::process::ExitCode;

/// Why a command did not finish.
///
/// ```
/// use gridgov::cli::CliError;
/// let e = CliError::input("--scale \"huge\": use a number of streets");
/// assert_eq!(e.code(), 2);
/// ```
#[derive(Debug)]
pub enum CliError {
    /// The input was refused (exit 2); nothing was changed.
    Input(Box<dyn Error>),
    /// Something other than the input failed (exit 1).
    Failed(Box<dyn Error>),
}

impl CliError {
    /// The input was refused, for this reason.
    pub fn input(e: impl Into<Box<dyn Error>>) -> Self {
        CliError::Input(e.into())
    }

    /// The exit status: 2 for refused input, 1 otherwise.
    pub fn code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Failed(_) => 1,
        }
    }

    /// The exit code of [`CliError::code`].
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// The error itself, to print with its causes.
    pub fn error(&self) -> &(dyn Error + 'static) {
        match self {
            CliError::Input(e) | CliError::Failed(e) => e.as_ref(),
        }
    }
}

/// Every error converts: the typed errors that describe the user's input
/// (a store or district file that is missing or not one, an account that
/// cannot be, …) become [`CliError::Input`], the rest
/// [`CliError::Failed`]. Text errors are failures unless marked with
/// [`OrInput::input`] where they are made.
impl<E: Into<Box<dyn Error>>> From<E> for CliError {
    fn from(e: E) -> Self {
        let e = e.into();
        if is_bad_input(e.as_ref()) {
            CliError::Input(e)
        } else {
            CliError::Failed(e)
        }
    }
}

fn is_bad_input(e: &(dyn Error + 'static)) -> bool {
    use gridgov_app::accounts::AccountError;
    if let Some(s) = e.downcast_ref::<gridgov_storage::StorageError>() {
        return s.is_bad_input();
    }
    if let Some(a) = e.downcast_ref::<AccountError>() {
        return !matches!(a, AccountError::Store(_) | AccountError::Crypto(_));
    }
    if let Some(f) = e.downcast_ref::<gridgov_fonts::FontError>() {
        return !matches!(f, gridgov_fonts::FontError::NotFound { .. });
    }
    e.is::<gridgov_storage::DistrictFileError>()
        || e.is::<gridgov_spatial::CrsError>()
        || e.is::<gridgov_app::report::ReportError>()
        || e.is::<gridgov_service::tls::TlsError>()
}

/// Marks a result's error as the input refused.
///
/// ```
/// use gridgov::cli::OrInput;
/// let r: Result<u32, _> = "x".parse::<u32>().input();
/// assert_eq!(r.unwrap_err().code(), 2);
/// ```
pub trait OrInput<T> {
    /// The error, if any, as [`CliError::Input`].
    fn input(self) -> Result<T, CliError>;
}

impl<T, E: Into<Box<dyn Error>>> OrInput<T> for Result<T, E> {
    fn input(self) -> Result<T, CliError> {
        self.map_err(CliError::input)
    }
}
