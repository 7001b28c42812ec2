//! `inspect --mode f64`, fast: data and weights straight to `f64`, one batched forward pass
//! with the rigorous rounding bound ([`crate::net::batch`]), no exact numbers unless
//! `--domain` asks for the exact box decision.

use super::{CliError, CommonArgs};
use crate::activity::Activity;
use crate::activity::batched::activity_streaming;
use crate::data::Dataset;
use crate::io::{DataF64, read_weights_f64};
use crate::net::batch::BatchNet;
use crate::net::{Arch, Network};
use crate::scalar::BigRational;
use serde_json::json;

/// What `inspect --mode f64` found.
pub struct F64Inspection {
    /// The architecture.
    pub arch: Arch,
    /// Number of data points.
    pub points: usize,
    /// Activity (float decisions; near ties where the bound does not settle a sign).
    pub activity: Activity,
    /// Empirical risk in `f64`.
    pub risk: serde_json::Value,
    /// Best-constant risk in `f64`.
    pub best_constant_risk: serde_json::Value,
}

/// The network of the common options in `f64` (weights straight from the file).
///
/// # Errors
/// [`CliError::Input`] naming `--weights`, `--arch` or `--init`.
pub fn batch_net(common: &CommonArgs) -> Result<BatchNet, CliError> {
    let Some(path) = &common.weights else {
        let net = common.network()?;
        return BatchNet::from_exact(&net).map_err(|e| CliError::input("--arch", e));
    };
    let (arch, params, exact) = read_weights_f64(path, common.layer_order.as_deref())
        .map_err(|e| CliError::input("--weights", e))?;
    common.check_arch(&arch)?;
    BatchNet::from_f64(arch, params, exact).map_err(|e| CliError::input("--weights", e))
}

/// Runs the f64 inspection.
///
/// # Errors
/// [`CliError::Input`] for bad options, files or shapes.
pub fn inspect_f64(common: &CommonArgs) -> Result<F64Inspection, CliError> {
    let net = batch_net(common)?;
    let arch = net.arch().clone();
    let (spec, target) = common.data.parse();
    let data = DataF64::load(
        &spec,
        arch.inputs(),
        arch.outputs(),
        &target,
        common.data.seed,
    )
    .map_err(|e| CliError::input("--data", e))?;
    inspect_batched(&net, &data)
}

/// The f64 inspection of an exact network on exact data (rounded to `f64`; the bound
/// covers the rounding).
///
/// # Errors
/// [`CliError::Input`] when the data do not fit the network.
pub fn inspect_exact_in_f64(
    net: &Network<BigRational>,
    data: &Dataset<BigRational>,
) -> Result<F64Inspection, CliError> {
    let bn = BatchNet::from_exact(net).map_err(|e| CliError::input("--arch", e))?;
    if data.outputs() != net.arch().outputs() {
        return Err(CliError::input(
            "--data",
            crate::net::NetError::DataShape {
                what: "outputs",
                expected: net.arch().outputs(),
                got: data.outputs(),
            },
        ));
    }
    let data = DataF64::from_exact(data.clone())
        .finite()
        .map_err(|e| CliError::input("--data", e))?;
    inspect_batched(&bn, &data)
}

fn inspect_batched(net: &BatchNet, data: &DataF64) -> Result<F64Inspection, CliError> {
    let arch = net.arch().clone();
    let (act, out) = activity_streaming(net, data.x.view(), data.exactness())
        .map_err(|e| CliError::input("--data", e))?;
    // Risk and V in point order, as the scalar code sums them.
    let m = data.len() as f64;
    let risk = out
        .outer_iter()
        .zip(data.y.outer_iter())
        .fold(0.0, |acc, (o, y)| {
            acc + o.iter().zip(y).fold(0.0, |s, (a, b)| s + (a - b) * (a - b))
        })
        / m;
    let mean: Vec<f64> = (0..data.y.ncols())
        .map(|o| data.y.column(o).iter().fold(0.0, |acc, v| acc + v) / m)
        .collect();
    let v = data.y.outer_iter().fold(0.0, |acc, y| {
        acc + y
            .iter()
            .zip(&mean)
            .fold(0.0, |s, (a, b)| s + (a - b) * (a - b))
    }) / m;
    Ok(F64Inspection {
        arch,
        points: data.len(),
        activity: act,
        risk: json!(risk),
        best_constant_risk: json!(v),
    })
}
