//! `deadrelu export-vnnlib`: the network up to a hidden layer (ONNX, optionally `.nnet`)
//! and the VNN-LIB query "some neuron of that layer is active somewhere in the box", so
//! other verifiers can cross-check deadrelu's exact decision.

use super::CliError;
use super::args::{BoxDomain, CommonArgs, rational};
use super::format::{decision_json, print_json};
use crate::activity::domain::{cube, decide_dead_on_box_with};
use crate::io::export::{Dtype, nnet_text, vnnlib_text};
use crate::io::onnx::onnx_model;
use crate::scalar::BigRational;
use clap::Args;
use num_traits::ToPrimitive;
use serde_json::json;
use std::path::PathBuf;

/// Options of `export-vnnlib`.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Required: the hidden layer k of the query (1-based).
    #[arg(long)]
    pub layer: usize,
    /// The input box [A,B]^d (box:A,B).
    #[arg(long, default_value = "box:-1,1", allow_hyphen_values = true)]
    pub domain: BoxDomain,
    /// Required: write PREFIX.onnx and PREFIX.vnnlib (and PREFIX.nnet with --nnet).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the `.nnet` text format (Reluplex, Marabou, NNV).
    #[arg(long)]
    pub nnet: bool,
    /// Element type of the ONNX tensors: f64 (exact for parameters that are doubles) or f32
    /// (rounded; the rounding is reported).
    #[arg(long, value_enum, default_value = "f64", hide_possible_values = true)]
    pub dtype: DtypeArg,
    /// The query asks for some z_kj >= MARGIN (VNN-LIB has no strict inequality).
    #[arg(long, default_value = "0", allow_hyphen_values = true, value_parser = rational)]
    pub margin: BigRational,
    /// Most branch-and-bound nodes the box decision visits per layer (then, for d <= 4, at most that many sub-boxes and phase regions) before answering unknown.
    #[arg(long, default_value_t = 20_000)]
    pub box_budget: usize,
}

/// `--dtype`: the command line's names of [`Dtype`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DtypeArg {
    /// IEEE double (exact for parameters that are doubles).
    F64,
    /// IEEE single (rounded).
    F32,
}

impl From<DtypeArg> for Dtype {
    fn from(d: DtypeArg) -> Self {
        match d {
            DtypeArg::F64 => Dtype::F64,
            DtypeArg::F32 => Dtype::F32,
        }
    }
}

fn write(path: &PathBuf, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| CliError::Output {
        path: path.display().to_string(),
        source: e.into(),
    })
}

/// Runs `export-vnnlib`.
///
/// # Errors
/// [`CliError`] for bad options or unwritable files.
pub fn run(args: &ExportArgs) -> Result<(), CliError> {
    args.common.warn_ignored();
    let setup = args.common.setup()?;
    let net = &setup.net;
    let arch = net.arch();
    let k = args.layer;
    if !(1..arch.depth()).contains(&k) {
        return Err(CliError::Input(format!(
            "--layer {k}: not a hidden layer of {arch} (1..{})",
            arch.depth() - 1
        )));
    }
    let (a, b) = (args.domain.lo.clone(), args.domain.hi.clone());
    let margin = &args.margin;
    let vnnlib = vnnlib_text(arch.inputs(), arch.width(k), k, &a, &b, margin)
        .map_err(|e| CliError::input("--domain/--margin", e))?;
    let path = |ext: &str| {
        let mut p = args.out.clone().into_os_string();
        p.push(ext);
        PathBuf::from(p)
    };
    let (onnx, rounding) = onnx_model(net, k, args.dtype.into());
    let (onnx_path, vnnlib_path) = (path(".onnx"), path(".vnnlib"));
    write(&onnx_path, &onnx)?;
    write(&vnnlib_path, vnnlib.as_bytes())?;
    let nnet_path = if args.nnet {
        let (text, _) = nnet_text(
            net,
            k,
            a.to_f64().unwrap_or(f64::NAN),
            b.to_f64().unwrap_or(f64::NAN),
        );
        let p = path(".nnet");
        write(&p, text.as_bytes())?;
        Some(p.display().to_string())
    } else {
        None
    };
    let mut spinner =
        super::progress::DelayedSpinner::new(&format!("exact decision of layer {k} on the box"));
    let nodes = |n: usize| {
        spinner.set_message(&format!(
            "exact decision of layer {k} on the box: {n} of at most {} nodes",
            args.box_budget
        ));
    };
    let (decision, exact_fallbacks) = decide_dead_on_box_with(
        net,
        k,
        &cube(&a, &b, arch.inputs()),
        args.box_budget,
        Some(&nodes),
    );
    spinner.finish();
    let v = json!({
        "onnx": onnx_path.display().to_string(),
        "vnnlib": vnnlib_path.display().to_string(),
        "nnet": nnet_path,
        "layer": k,
        "dtype": format!("{:?}", args.dtype).to_lowercase(),
        "exact": rounding.rounded == 0,
        "rounding": rounding,
        "deadrelu": decision_json(k, &decision),
        "exact_fallbacks": exact_fallbacks,
    });
    if args.common.json {
        print_json(&v);
        return Ok(());
    }
    println!(
        "wrote {} and {}{}",
        onnx_path.display(),
        vnnlib_path.display(),
        v["nnet"]
            .as_str()
            .map(|p| format!(" and {p}"))
            .unwrap_or_default()
    );
    if rounding.rounded == 0 {
        println!(
            "the exported network is exactly theta (every entry is a {})",
            v["dtype"].as_str().unwrap_or("")
        );
    } else {
        println!(
            "warning: {} entries were rounded (largest error {:e}); verifiers then see a nearby network",
            rounding.rounded, rounding.max_error
        );
    }
    println!(
        "deadrelu's exact decision for comparison: {}",
        super::format::decision_line(&v["deadrelu"])
    );
    println!(
        "a verifier answering unsat proves layer {k} dead on the box; sat gives a point where some z_{k}j >= margin"
    );
    Ok(())
}
