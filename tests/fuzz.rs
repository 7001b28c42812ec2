//! The fuzz harness of issue 15: every parser and command entry driven by generated and
//! mutated inputs. It fails on any panic, any input over a time limit, and any exit code
//! other than 0, 1 or 2.
//!
//! Channels, and how many inputs each gets by default (`cargo test`):
//!
//! | channel | entry | default | CI (`DEADRELU_FUZZ_SCALE=10`) |
//! |---|---|---|---|
//! | exact numbers | `scalar::parse_rational`, in process | 6 000 | 60 000 |
//! | CSV files | `data::read_csv`, in process | 1 500 | 15 000 |
//! | weights JSON | `io` weights reader, in process | 1 500 | 15 000 |
//! | safetensors | safetensors import, in process | 1 000 | 10 000 |
//! | certificates | `deadrelu check FILE`, a process each | 150 | 1 500 |
//! | shard files | `deadrelu merge A B`, a process each | 100 | 1 000 |
//! | flag values | every command, a process each | 150 | 1 500 |
//!
//! In-process cases are timed one by one (a case over [`CASE_LIMIT`] fails); process
//! cases are killed and fail past [`PROCESS_LIMIT`]. Generators mix valid inputs, inputs
//! at and past every limit (huge digit counts and exponents, widths that overflow,
//! `i64::MIN`), and byte-level mutations of valid seeds. `proptest` shrinks a failure and
//! records its seed in `tests/fuzz.proptest-regressions`, which is committed.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Time one in-process input may take.
const CASE_LIMIT: Duration = Duration::from_secs(2);
/// Time one process may take (start-up included, on a loaded 2-core machine).
const PROCESS_LIMIT: Duration = Duration::from_secs(20);

/// Cases for a channel: `default * DEADRELU_FUZZ_SCALE` (scale 1 unless set).
fn cases(default: u32) -> u32 {
    let scale: u32 = std::env::var("DEADRELU_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    default.saturating_mul(scale.max(1))
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        max_shrink_iters: 200,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/fuzz.proptest-regressions",
            ),
        )),
        ..Config::default()
    })
}

/// Runs `f`, failing the case when it takes longer than [`CASE_LIMIT`].
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    if elapsed > CASE_LIMIT {
        return Err(TestCaseError::fail(format!("{what} took {elapsed:?}")));
    }
    Ok(out)
}

fn scratch_dir(channel: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deadrelu-fuzz-{}-{channel}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary with a kill timer; the exit code must be 0, 1 or 2 and stderr must
/// not show a panic.
fn run_binary(args: &[String]) -> Result<(i32, String), TestCaseError> {
    let out = common::process::run_limited(args, None, PROCESS_LIMIT)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let (code, err, status) = (out.code, out.stderr, out.status);
    if !(0..=2).contains(&code) || err.contains("panicked") {
        return Err(TestCaseError::fail(format!(
            "{args:?}: exit {code} ({status:?}), stderr: {err}"
        )));
    }
    if code == 2 && err.trim().lines().count() != 1 {
        return Err(TestCaseError::fail(format!(
            "{args:?}: exit 2 must print one line, got: {err}"
        )));
    }
    Ok((code, err))
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

/// Text that looks like an exact number, or nearly: every form the parser knows, at and
/// past its limits, and junk built from the same characters.
fn number_text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[-+]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][-+]?[0-9]{1,6})?",
        2 => "[-+]?[0-9]{1,30}/[-+]?[0-9]{1,30}",
        2 => "[-+0-9eE./ ]{0,30}",
        1 => "[-+]?[0-9]{1,3}[eE]-?(9223372036854775808|9223372036854775807|18446744073709551616|[0-9]{7,40})",
        1 => (1usize..30_000, "[0-9]").prop_map(|(n, d)| format!("0.{}", d.repeat(n))),
        1 => (1usize..25_000, 1usize..25_000).prop_map(|(a, b)| format!("{}/{}", "7".repeat(a), "3".repeat(b))),
        1 => prop_oneof![Just("nan".to_string()), Just("-inf".to_string()), Just("Infinity".to_string()), Just(String::new())],
        1 => any::<String>(),
    ]
    .boxed()
}

/// A byte-level mutation of `seed`: flips, insertions, deletions, duplications and
/// truncations at generated positions.
fn mutated(seed: Vec<u8>) -> BoxedStrategy<Vec<u8>> {
    let edit = (
        any::<prop::sample::Index>(),
        0u8..6,
        any::<u8>(),
        1usize..64,
    );
    prop::collection::vec(edit, 0..6)
        .prop_map(move |edits| {
            let mut bytes = seed.clone();
            for (at, kind, byte, len) in edits {
                let pos = if bytes.is_empty() {
                    0
                } else {
                    at.index(bytes.len())
                };
                match kind {
                    0 if !bytes.is_empty() => bytes[pos] ^= byte | 1,
                    1 => bytes.insert(pos, byte),
                    2 if !bytes.is_empty() => {
                        let end = (pos + len).min(bytes.len());
                        bytes.drain(pos..end);
                    }
                    3 => {
                        let end = (pos + len).min(bytes.len());
                        let copy: Vec<u8> = bytes[pos..end].to_vec();
                        bytes.splice(pos..pos, copy);
                    }
                    4 => bytes.truncate(pos),
                    _ => {
                        // Replace a run of digits-ish bytes with a number from the edge.
                        let edge: &[u8] = match byte % 4 {
                            0 => b"18446744073709551615",
                            1 => b"1e-9223372036854775808",
                            2 => b"-1e400",
                            _ => b"4611686018427387904",
                        };
                        let end = (pos + len.min(4)).min(bytes.len());
                        bytes.splice(pos..end, edge.iter().copied());
                    }
                }
            }
            bytes
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------
// In-process channels
// ---------------------------------------------------------------------------------------

#[test]
fn fuzz_exact_numbers() {
    runner(cases(6_000))
        .run(&number_text(), |s| {
            let parsed = timed("parse_rational", || deadrelu::scalar::parse_rational(&s))?;
            if let Ok(q) = parsed {
                // A number that parses prints back to a number with the same value (when
                // its lowest-terms text is itself within the digit limit: 0.ddd..d with
                // 3999 digits prints as p/10^3999, twice as many digits).
                let printed = deadrelu::scalar::rational_string(&q);
                let digits = printed.bytes().filter(u8::is_ascii_digit).count();
                if digits <= deadrelu::limits::MAX_EXACT_DIGITS {
                    let back = deadrelu::scalar::parse_rational(&printed);
                    prop_assert_eq!(back.ok(), Some(q));
                }
            }
            Ok(())
        })
        .unwrap();
}

fn csv_text() -> BoxedStrategy<Vec<u8>> {
    let cell = prop_oneof![4 => number_text(), 1 => "[a-z_]{1,6}", 1 => Just(String::new())];
    let row = prop::collection::vec(cell, 0..5).prop_map(|cells| cells.join(","));
    let generated = prop::collection::vec(row, 0..12).prop_map(|rows| rows.join("\n").into_bytes());
    prop_oneof![
        2 => generated,
        2 => mutated(b"x,y\n-1,1\n0,0\n0.5,1/2\n1e-3,2.5e2\n".to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ]
    .boxed()
}

#[test]
fn fuzz_csv_files() {
    let dir = scratch_dir("csv");
    let path = dir.join("data.csv");
    runner(cases(1_500))
        .run(
            &(csv_text(), 1usize..4, 1usize..3),
            |(bytes, inputs, outputs)| {
                std::fs::write(&path, &bytes).unwrap();
                let result = timed("read_csv", || {
                    deadrelu::data::read_csv(&path, inputs, outputs)
                })?;
                if let Ok(data) = result {
                    prop_assert!(!data.is_empty());
                    prop_assert_eq!(data.inputs(), inputs);
                    prop_assert_eq!(data.outputs(), outputs);
                }
                Ok(())
            },
        )
        .unwrap();
}

fn weights_json() -> BoxedStrategy<Vec<u8>> {
    let width = prop_oneof![
        4 => 1u64..5,
        1 => Just(0u64),
        1 => Just(u64::MAX),
        1 => Just(4_611_686_018_427_387_904u64),
        1 => 1_000_000u64..2_000_000_000,
    ];
    let structured = (
        prop::collection::vec(width, 0..5),
        prop::collection::vec(number_text(), 0..20),
    )
        .prop_map(|(arch, params)| {
            let params: Vec<String> = params
                .iter()
                .map(|p| serde_json::to_string(p).unwrap())
                .collect();
            format!(
                "{{\"arch\":[{}],\"params\":[{}]}}",
                arch.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                params.join(",")
            )
            .into_bytes()
        });
    prop_oneof![
        2 => structured,
        2 => mutated(br#"{"arch":[1,2,1],"params":[1,"-1/2",-2,"-2",0.5,0.25,"1/3"]}"#.to_vec()),
        1 => Just(br#"{"arch":[1,2,1],"arch":[1,3,1],"params":[1,2,3,4,5,6,7]}"#.to_vec()),
    ]
    .boxed()
}

#[test]
fn fuzz_weights_json() {
    let dir = scratch_dir("weights");
    let path = dir.join("w.json");
    runner(cases(1_500))
        .run(&weights_json(), |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            let result = timed("weights json", || deadrelu::io::weights::read_json(&path))?;
            if let Ok((arch, params)) = result {
                prop_assert_eq!(arch.num_params(), params.len());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_safetensors() {
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dead_mlp.safetensors"
    ))
    .unwrap();
    let dir = scratch_dir("safetensors");
    let path = dir.join("m.safetensors");
    // Also a header that claims a huge length.
    let mut huge_header = seed.clone();
    huge_header[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let strategy = prop_oneof![4 => mutated(seed), 1 => mutated(huge_header)];
    runner(cases(1_000))
        .run(&strategy, |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            let result = timed("safetensors", || {
                deadrelu::io::safetensors::read_safetensors(&path)
            })?;
            if let Ok((arch, params)) = result {
                prop_assert_eq!(arch.num_params(), params.len());
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Process channels
// ---------------------------------------------------------------------------------------

/// Runs the binary once to make a seed file (a certificate, a shard).
fn make_seed(args: &[&str], path: &Path) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_deadrelu"))
        .args(args)
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

#[test]
fn fuzz_certificates() {
    let dir = scratch_dir("cert");
    let seed_path = dir.join("seed.json");
    let seed = make_seed(
        &[
            "audit",
            "--arch",
            "1,2,2,2,2,2,2,2,2,2,2,1",
            "--seed",
            "1",
            "--steps",
            "3",
            "--optimizers",
            "sgd,adam",
            "--certificate",
            seed_path.to_str().unwrap(),
        ],
        &seed_path,
    );
    let box_path = dir.join("box.json");
    let box_seed = make_seed(
        &[
            "audit",
            "--arch",
            "1,2,2,2,2,2,2,2,2,2,2,1",
            "--seed",
            "1",
            "--domain",
            "box:-1,1",
            "--steps",
            "3",
            "--optimizers",
            "sgd",
            "--certificate",
            box_path.to_str().unwrap(),
        ],
        &box_path,
    );
    let path = dir.join("c.json");
    let strategy = prop_oneof![mutated(seed), mutated(box_seed)];
    runner(cases(150))
        .run(&strategy, |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            run_binary(&["check".to_string(), path.display().to_string()])?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_shard_files() {
    let dir = scratch_dir("shard");
    let a = dir.join("a.json");
    let b = dir.join("b.json");
    let shard = |i: u32, path: &Path| -> Vec<u8> {
        let out = Command::new(env!("CARGO_BIN_EXE_deadrelu"))
            .args([
                "estimate",
                "--arch",
                "1,3,3,1",
                "--trials",
                "50",
                "--shard",
                &format!("{i}/2"),
                "--json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::write(path, &out.stdout).unwrap();
        out.stdout
    };
    let seed_a = shard(0, &a);
    let seed_b = shard(1, &b);
    let path = dir.join("m.json");
    runner(cases(100))
        .run(&(mutated(seed_a), any::<bool>()), |(bytes, first)| {
            std::fs::write(&path, &bytes).unwrap();
            let other = if first { &b } else { &a };
            run_binary(&[
                "merge".to_string(),
                path.display().to_string(),
                other.display().to_string(),
                "--json".to_string(),
            ])?;
            Ok(())
        })
        .unwrap();
    let _ = seed_b;
}

/// A flag value: small valid values, values at the edges, and junk.
fn flag_value(kind: u8) -> BoxedStrategy<String> {
    match kind {
        // architectures
        0 => prop_oneof![
            3 => prop::collection::vec(1u64..5, 3..6).prop_map(|w| w.iter().map(u64::to_string).collect::<Vec<_>>().join(",")),
            1 => prop::collection::vec(prop_oneof![Just(0u64), Just(u64::MAX), Just(1u64 << 62), 1u64..4], 1..5)
                .prop_map(|w| w.iter().map(u64::to_string).collect::<Vec<_>>().join(",")),
            // Junk, and lists with a zero or an overflowing entry (never a large valid
            // architecture: a valid 999-wide sweep is slow by right, not a hang).
            1 => "[,a-z.-]{0,8}|0,[0-9]{1,3}|[0-9]{21,24},1",
        ]
        .boxed(),
        // counts that must stay small when valid (trials, steps, batch, threads)
        1 => prop_oneof![
            3 => (0u64..40).prop_map(|v| v.to_string()),
            1 => Just(u64::MAX.to_string()),
            1 => "[-0-9a-z]{0,4}",
        ]
        .boxed(),
        // init and bias specs
        2 => prop_oneof![
            Just("torch-default".to_string()),
            Just("he-normal".to_string()),
            Just("rai".to_string()),
            number_text().prop_map(|n| format!("uniform:{n}")),
            number_text().prop_map(|n| format!("normal:{n}")),
            number_text().prop_map(|n| format!("const:{n}")),
            "[a-z:]{0,8}",
        ]
        .boxed(),
        // data and domain specs
        _ => prop_oneof![
            (number_text(), number_text(), 0u64..12).prop_map(|(a, b, m)| format!("grid:{a},{b}:{m}")),
            (number_text(), number_text(), 0u64..12).prop_map(|(a, b, m)| format!("uniform:{a},{b}:{m}")),
            (number_text(), number_text()).prop_map(|(a, b)| format!("box:{a},{b}")),
            Just("grid:-1,1:18446744073709551615".to_string()),
            "[a-z:,0-9]{0,10}",
        ]
        .boxed(),
    }
}

#[test]
fn fuzz_flag_values() {
    // (command, flag, kind of value)
    const FLAGS: &[(&str, &str, u8)] = &[
        ("inspect", "--arch", 0),
        ("inspect", "--init", 2),
        ("inspect", "--bias-init", 2),
        ("inspect", "--data", 3),
        ("inspect", "--domain", 3),
        ("inspect", "--seed", 1),
        ("train", "--steps", 1),
        ("train", "--batch", 1),
        ("train", "--lr", 2),
        ("audit", "--steps", 1),
        ("audit", "--arch", 0),
        ("audit", "--domain", 3),
        ("estimate", "--arch", 0),
        ("estimate", "--trials", 1),
        ("estimate", "--threads", 1),
        ("estimate", "--widths", 0),
        ("estimate", "--depths", 0),
        ("estimate", "--init", 2),
        ("estimate", "--data", 3),
        ("bound", "--width", 1),
        ("bound", "--inputs", 1),
        ("bound", "--init", 2),
        ("bound", "--box", 3),
    ];
    let case = (0..FLAGS.len()).prop_flat_map(|i| {
        let (command, flag, kind) = FLAGS[i];
        (Just(command), Just(flag), flag_value(kind))
    });
    runner(cases(150))
        .run(&case, |(command, flag, value)| {
            let mut args = vec![command.to_string(), flag.to_string(), value];
            // Keep valid runs short, unless the count is the flag under test (given twice,
            // clap would refuse it before parsing the generated value). Generated counts
            // are below 40, junk, or u64::MAX (refused: above MAX_STEPS / MAX_TRIALS).
            match command {
                "estimate" if flag != "--trials" => {
                    args.extend(["--trials", "20"].map(String::from))
                }
                "train" | "audit" if flag != "--steps" => {
                    args.extend(["--steps", "2"].map(String::from))
                }
                _ => {}
            }
            if command != "bound" && flag != "--arch" {
                args.extend(["--arch", "1,2,2,1"].map(String::from));
            }
            // Small data keep valid exact runs short (the default grid of a 2-input
            // architecture has 4096 points).
            if matches!(command, "inspect" | "train" | "audit" | "estimate")
                && !matches!(flag, "--data" | "--domain")
            {
                args.extend(["--data", "grid:-1,1:4"].map(String::from));
            }
            // The first occurrence of a flag given twice is an error (exit 2) in clap,
            // which is fine: the generated value must then still never panic.
            run_binary(&args)?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn broken_pipe_is_not_a_panic() {
    for args in [
        &["demo"][..],
        &["inspect", "--arch", "1,3,3,1"],
        &["bound", "--inputs", "1", "--box", "0,1"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_deadrelu"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read nothing: close our end of stdout at once, like `| head -0`.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            matches!(out.status.code(), Some(0..=2) | None),
            "{args:?}: {:?}",
            out.status
        );
        let _ = std::io::stderr().flush();
    }
}

/// Runs `args` (split at spaces) under [`PROCESS_LIMIT`] and returns exit code and stderr.
fn run_case(args: &str) -> (i32, String) {
    let args: Vec<String> = args.split(' ').map(String::from).collect();
    let start = Instant::now();
    let out = run_binary(&args).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        start.elapsed() < PROCESS_LIMIT,
        "{args:?} took {:?}",
        start.elapsed()
    );
    out
}

/// Cases of the adversarial pass of session 7 (issue 14, tidy) in the CLI's area.
#[test]
fn adversarial_pass_regressions() {
    // negative hyperparameters reach their check (clap took `-1` for a flag before)
    let (code, err) = run_case("train --arch 1,2,2,1 --data grid:-1,1:4 --lr -1");
    assert_eq!((code, err.trim()), (2, "deadrelu: --lr -1: must be > 0"));
    let (code, err) =
        run_case("train --arch 1,2,2,1 --data grid:-1,1:4 --momentum -1/2 --optimizer momentum");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--momentum -1/2"), "{err}");
    // optimizer names are parsed by clap: one line naming the flag and listing the names
    for (args, flag) in [
        ("train --arch 1,2,1 --optimizer Adam", "--optimizer"),
        ("audit --arch 1,2,1 --optimizers sgd,,adam", "--optimizers"),
        (
            "estimate --arch 1,2,1 --train --optimizer all,sgd",
            "--optimizer",
        ),
    ] {
        let (code, err) = run_case(args);
        assert_eq!(code, 2, "{args}: {err}");
        assert!(
            err.starts_with(&format!("deadrelu: {flag}")),
            "{args}: {err}"
        );
        assert!(err.contains("sgd, momentum, nesterov"), "{args}: {err}");
    }
    // the estimate's exact lower bounds were quadratic in the depth (1,000 layers: 1.1 s
    // in bounds alone, 10,000: over 15 s); the bound is still reported
    let (code, _) = run_case("estimate --arch 1,2,2,1 --widths 2 --depths 2000 --trials 1 --json");
    assert_eq!(code, 0);
}

/// `bound` hangs found by the same pass, in `stats/bound_normal` (law scales far apart),
/// and the forward pass quadratic in the depth (`Arch::layer_offset`, `net/mod.rs`): each
/// within the process limit now.
#[test]
fn adversarial_pass_regressions_elsewhere() {
    for args in [
        "bound --init he-normal --bias-init normal:1e30 --arch 2,3,1",
        "bound --init normal:1 --bias-init normal:1e30 --arch 2,3,1",
        "bound --init normal:1e-20 --bias-init normal:1 --arch 2,3,1",
        "bound --init he-normal --bias-init normal:1e5 --arch 2,3,1",
        "bound --init glorot-normal --bias-init uniform:1e30 --arch 2,3,1",
        "estimate --arch 1,2,2,1 --widths 2 --depths 20000 --trials 1",
    ] {
        let (code, err) = run_case(args);
        assert!(code == 0 || code == 2, "{args}: {err}");
    }
}
