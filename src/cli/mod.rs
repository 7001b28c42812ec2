//! The `deadrelu` command line (INTERFACE.md).
//!
//! Every command prints a readable report by default and, with `--json`, one JSON object
//! on stdout and nothing else there (progress and logs go to stderr). Exit codes: 0
//! success, 1 a check failed, 2 bad input (one line on stderr naming what is wrong).

pub mod args;
pub(crate) mod audit;
mod audit_checkpoint;
mod bound;
mod demo;
mod estimate;
mod export;
pub(crate) mod format;
mod inspect;
mod inspect_f64;
mod plot;
pub(crate) mod progress;
pub(crate) mod train;

pub use args::{CommonArgs, Mode, OptimArgs, Setup};

use clap::{Parser, Subcommand};

/// A cause kept inside a [`CliError`] (any error, or a message).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Errors of the command line: each maps to an exit code. Errors of the library stay
/// inside as their [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Bad input described by the command line itself (exit 2).
    #[error("{0}")]
    Input(String),
    /// Bad input: a flag, file, line or field and what is wrong with it (exit 2).
    #[error("{flag}: {source}")]
    Invalid {
        /// The flag (or what it names).
        flag: String,
        /// The cause.
        #[source]
        source: Cause,
    },
    /// A check failed (exit 1).
    #[error("{0}")]
    CheckFailed(String),
    /// A claim of a certificate is false (exit 1); any other refusal of the checker is
    /// bad input ([`CliError::Invalid`]).
    #[error("{path}: {source}")]
    ClaimFails {
        /// The certificate.
        path: String,
        /// The checker's verdict.
        #[source]
        source: deadrelu_check::CheckError,
    },
    /// A bug: something deadrelu wrote fails its own check (exit 2).
    #[error("internal error: {what} ({source}); please report")]
    Internal {
        /// What went wrong.
        what: &'static str,
        /// The cause.
        #[source]
        source: Cause,
    },
    /// Writing output failed (exit 2).
    #[error("cannot write {path}: {source}")]
    Output {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: Cause,
    },
    /// An error of the library (or of a crate it uses), shown as it is and kept as the
    /// source chain (exit 2).
    #[error(transparent)]
    Library(Cause),
    /// The run was stopped by [`crate::cancel::request`] (Ctrl-C in the Python package;
    /// exit 130, as a shell reports SIGINT).
    #[error("interrupted")]
    Interrupted,
}

impl CliError {
    /// The process exit code of this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::CheckFailed(_) | CliError::ClaimFails { .. } => 1,
            CliError::Interrupted => 130,
            _ => 2,
        }
    }
    /// Wraps an error of the library as bad input, its message and source chain kept.
    pub fn library(e: impl Into<Cause>) -> Self {
        CliError::Library(e.into())
    }
    /// Wraps an error (or a message) as bad input, prefixed by the flag it came from.
    pub fn input(flag: &str, e: impl Into<Cause>) -> Self {
        CliError::Invalid {
            flag: flag.to_string(),
            source: e.into(),
        }
    }
    /// A refusal of the certificate checker for the file `path`: a false claim exits 1
    /// ([`CliError::ClaimFails`]), anything else is bad input.
    pub fn check(path: &std::path::Path, e: deadrelu_check::CheckError) -> Self {
        let path = path.display().to_string();
        match e {
            e @ deadrelu_check::CheckError::ClaimFails { .. } => {
                CliError::ClaimFails { path, source: e }
            }
            e => CliError::input(&path, e),
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "deadrelu",
    version,
    next_line_help = true,
    about = "Checks, exactly and statistically, why SGD, Adam and relatives fail to reach global minimizers of ReLU networks (dead layers)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print nothing on stderr but errors: no progress bar, warning or note.
    #[arg(long, short, global = true, display_order = 1000)]
    quiet: bool,
    /// Notes on stderr even when it is not a terminal (for `run_json`, the Python
    /// package's entry, whose notes are otherwise shown only on a terminal).
    #[arg(long, global = true, hide = true)]
    verbose: bool,
}

/// Set by `--quiet`: [`note`] and [`warn`] print nothing.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Set by [`run_json`] when stderr is not a terminal and `--verbose` was not given:
/// [`note`] prints nothing (warnings still do).
static NO_NOTES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `--quiet` was given.
pub(crate) fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// A note for the user on stderr (what was written, what was not and why), unless
/// `--quiet`.
pub(crate) fn note(message: &str) {
    if !quiet() && !NO_NOTES.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("deadrelu: {message}");
    }
}

/// A warning on stderr (a flag that has no effect, a result to read with care), unless
/// `--quiet`.
pub(crate) fn warn(message: &str) {
    if !quiet() {
        eprintln!("deadrelu: warning: {message}");
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Activity of theta on the data: inactive neurons, dead layers, constant realization, risk.
    Inspect(inspect::InspectArgs),
    /// One training run with any optimizer, in f64 or exact (enclosure) arithmetic.
    Train(train::TrainArgs),
    /// The exact mechanism audit of one run, with a certificate of non-convergence.
    Audit(audit::AuditArgs),
    /// Re-verifies a certificate from scratch (exit 0 valid, 1 invalid, 2 unreadable).
    Check(audit::CheckArgs),
    /// Monte Carlo in f64: how often networks are born dead, across widths, depths, schemes.
    Estimate(estimate::EstimateArgs),
    /// Exact probability that a first-layer neuron is inactive on a box, and lower bounds.
    Bound(bound::BoundArgs),
    /// Merges `estimate --shard I/N --json` outputs into the result of one run.
    Merge(estimate::MergeArgs),
    /// A one-minute tour that needs no arguments.
    Demo(demo::DemoArgs),
    /// Writes the network up to a hidden layer (ONNX, .nnet) and the VNN-LIB query
    /// "some neuron of the layer is active somewhere in the box" for other verifiers.
    #[command(name = "export-vnnlib")]
    ExportVnnlib(export::ExportArgs),
    /// Prints a shell completion script, e.g. `deadrelu completions bash > ~/.local/share/bash-completion/completions/deadrelu`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Runs the command line on the process arguments; returns the exit code.
pub fn main() -> i32 {
    run(std::env::args_os())
}

/// Runs the command line on `args` (the first is the program name); returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                };
            }
            eprintln!("deadrelu: {}", crate::limits::shorten_words(&clap_line(&e)));
            return 2;
        }
    };
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let result = check_environment().and_then(|()| {
        crate::cancel::run(|| dispatch(cli.command))
            .unwrap_or_else(|crate::cancel::Cancelled| Err(CliError::Interrupted))
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("deadrelu: {}", crate::limits::shorten_words(&e.to_string()));
            e.exit_code()
        }
    }
}

/// Runs one command in-process with `--json` and returns its JSON object instead of
/// printing it (the Python package calls this). `args` are the words after the program
/// name, e.g. `["inspect", "--weights", "w.json"]`; `--json` is added when missing.
///
/// The run stops at its next cancellation point when [`crate::cancel::request`] is called
/// (from another thread), and then returns [`CliError::Interrupted`].
///
/// # Errors
/// The command's [`CliError`] (its message is the CLI's one line); bad arguments as
/// [`CliError::Input`] with clap's first line. `check` of an invalid certificate is not an
/// error here: its JSON says `"valid": false`.
pub fn run_json(args: &[String]) -> Result<serde_json::Value, CliError> {
    let mut words: Vec<String> = vec!["deadrelu".into()];
    words.extend(args.iter().cloned());
    if !words.iter().any(|w| w == "--json") {
        words.push("--json".into());
    }
    let cli = Cli::try_parse_from(&words).map_err(|e| CliError::Input(clap_line(&e)))?;
    check_environment()?;
    // a library call (a notebook, a script) shows notes such as "N trials in T s" only on
    // a terminal or when asked; warnings unless --quiet
    use std::io::IsTerminal;
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    NO_NOTES.store(
        !(cli.verbose || std::io::stderr().is_terminal()),
        std::sync::atomic::Ordering::Relaxed,
    );
    let (result, value) = crate::cancel::run(|| format::capture_json(|| dispatch(cli.command)))
        .map_err(|crate::cancel::Cancelled| {
            format::end_capture();
            CliError::Interrupted
        })?;
    match (result, value) {
        (Ok(()), Some(v))
        | (Err(CliError::CheckFailed(_) | CliError::ClaimFails { .. }), Some(v)) => Ok(v),
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(CliError::Input(
            "this command prints no JSON object".to_string(),
        )),
    }
}

/// Refuses environment variables that name nothing (today [`ENGINE_VAR`]), before any
/// work starts, rather than ignoring them.
///
/// [`ENGINE_VAR`]: crate::net::batch_exact::ENGINE_VAR
fn check_environment() -> Result<(), CliError> {
    crate::net::batch_exact::ExactEngine::try_from_env()
        .map(|_| ())
        .map_err(|e| CliError::Input(e.to_string()))
}

/// The one line of a command-line error: for a value its parser refused, `FLAG: why`
/// (the parser's own error, worded as the commands word theirs); otherwise clap's first
/// line without its `error: ` prefix, and when that ends with a colon (a list follows,
/// e.g. the missing required flags), the list joined into it.
fn clap_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use std::error::Error as _;
    if e.kind() == ErrorKind::ValueValidation
        && let (Some(ContextValue::String(arg)), Some(source)) =
            (e.get(ContextKind::InvalidArg), e.source())
    {
        let flag = arg.split(' ').next().unwrap_or(arg);
        let why = source.to_string().lines().collect::<Vec<_>>().join(" ");
        if why.contains(flag) {
            return why;
        }
        // the value, unless the parser quotes it already or it is long (the line stays short)
        return match e.get(ContextKind::InvalidValue) {
            Some(ContextValue::String(value))
                if value.len() <= 64 && !why.contains(value.as_str()) =>
            {
                format!("{flag} {value:?}: {why}")
            }
            _ => format!("{flag}: {why}"),
        };
    }
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines
        .next()
        .unwrap_or("bad arguments")
        .trim_start_matches("error: ")
        .to_string();
    if first.ends_with(':') {
        let list: Vec<&str> = lines
            .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
            .collect();
        format!("{first} {}", list.join(", "))
    } else {
        first
    }
}

fn dispatch(command: Command) -> Result<(), CliError> {
    match command {
        Command::Inspect(a) => inspect::run(&a),
        Command::Train(a) => train::run(&a),
        Command::Audit(a) => audit::run(&a),
        Command::Check(a) => audit::check(&a),
        Command::Estimate(a) => estimate::run_estimate(&a),
        Command::Bound(a) => bound::run_bound(&a),
        Command::Merge(a) => estimate::run_merge(&a),
        Command::Demo(a) => demo::run(&a),
        Command::ExportVnnlib(a) => export::run(&a),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "deadrelu", &mut std::io::stdout());
            Ok(())
        }
    }
}
