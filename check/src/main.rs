//! `deadrelu-check CERTIFICATE [--json]`: re-verifies a certificate. Exit 0 when every
//! claim holds, 1 when one is false (named), 2 for unreadable input or a limit.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let paths: Vec<&String> = args.iter().filter(|a| *a != "--json").collect();
    let [path] = paths.as_slice() else {
        eprintln!("usage: deadrelu-check CERTIFICATE [--json]");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("deadrelu-check: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let result = deadrelu_check::check_certificate(&text);
    if json {
        let v = match &result {
            Ok(c) => serde_json::json!({
                "valid": true, "summary": c.summary(), "version": c.version,
                "exact_fallbacks": c.exact_fallbacks,
                "exact_work": c.exact_work,
                "optimizer_records": {"runs": c.optimizer_records, "verified": false},
            }),
            Err(e) => serde_json::json!({
                "valid": false, "error": e.to_string(),
                "claim": e.claim().map(|c| c.name()),
            }),
        };
        println!("{v}");
    }
    match result {
        Ok(c) => {
            if !json {
                println!("{}", c.summary());
                println!("{}", c.records_note());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("deadrelu-check: {path}: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
