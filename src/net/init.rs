//! Seeded initialization schemes (INTERFACE.md, `--init` and `--bias-init`).
//!
//! # Sampling, for reproducibility
//! - Generator: `ChaCha8Rng` (rand_chacha 0.3.1) keyed by `seed_from_u64(seed)` and set to
//!   stream `trial` (`set_stream`); a single run (`inspect`, `train`, `audit`) is trial 0,
//!   so `inspect --seed S` shows the network of trial 0 of `estimate --seed S`.
//! - Order of draws: the layout of MECHANISM.md, layer by layer: `W_k` row-major, then
//!   `B_k`; biases that are zero or constant consume no draws.
//! - Uniform `U(-c, c)`: rand 0.8.5 `Uniform<f64>::new(-c, c)` (half-open).
//!   Normal `N(0, s^2)`: rand_distr 0.4.3 `Normal::new(0, s)` (ziggurat).
//! - Scales (`fan_in = l_{k-1}`, `fan_out = l_k`): `torch-default` weights and biases
//!   `U(+-1/sqrt(fan_in))`; `he-normal` `N(0, 2/fan_in)`; `he-uniform`
//!   `U(+-sqrt(6/fan_in))`; `glorot-normal` `N(0, 2/(fan_in+fan_out))`; `glorot-uniform`
//!   `U(+-sqrt(6/(fan_in+fan_out)))`; `lecun-normal` `N(0, 1/fan_in)`. `uniform:C` and
//!   `normal:S` draw weights and biases iid. The He, Glorot and LeCun schemes have zero
//!   biases unless `--bias-init` says otherwise.
//! - The exact-mode theta is the exact rational image of the `f64` draw
//!   ([`crate::scalar::vec_from_f64`]), so both modes start from the same point.

use super::{Arch, NetError, Network};
use crate::scalar::{BigRational, Scalar, ScalarError, parse_rational, vec_from_f64};
use num_traits::{Signed, ToPrimitive};
use rand::distributions::{Distribution, Uniform};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Normal;

/// Errors of initialization.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A `--init` or `--bias-init` spec that cannot be read.
    #[error("bad {what} {}: {reason}", crate::limits::shown(.spec))]
    Spec {
        /// `"--init"` or `"--bias-init"`.
        what: &'static str,
        /// As given.
        spec: String,
        /// What is wrong (the reader's own words: which range the value must lie in).
        reason: String,
    },
    /// A scale or constant of a spec that is not an exact number.
    #[error("bad {what} {}: {source}", crate::limits::shown(.spec))]
    Number {
        /// `"--init"` or `"--bias-init"`.
        what: &'static str,
        /// As given.
        spec: String,
        /// The cause.
        source: ScalarError,
    },
    /// The drawn parameters do not fit the network.
    #[error(transparent)]
    Net(#[from] NetError),
    /// A drawn value was not finite.
    #[error(transparent)]
    Scalar(#[from] ScalarError),
}

/// A weight initialization scheme.
#[derive(Debug, Clone, PartialEq)]
pub enum InitScheme {
    /// `uniform:C`: weights and biases iid `U(-C, C)`.
    Uniform(BigRational),
    /// `normal:S`: weights and biases iid `N(0, S^2)`.
    Normal(BigRational),
    /// PyTorch `nn.Linear`: weights and biases `U(+-1/sqrt(fan_in))`.
    TorchDefault,
    /// `N(0, 2/fan_in)`.
    HeNormal,
    /// `U(+-sqrt(6/fan_in))`.
    HeUniform,
    /// `N(0, 2/(fan_in+fan_out))`.
    GlorotNormal,
    /// `U(+-sqrt(6/(fan_in+fan_out)))`.
    GlorotUniform,
    /// `N(0, 1/fan_in)`.
    LecunNormal,
    /// Randomized asymmetric initialization (Lu, Shin, Su, Karniadakis 2019): every entry
    /// of a neuron's row `(W_j, B_j)` iid `N(0, 2/fan_in)`, then one entry, chosen
    /// uniformly among the `fan_in + 1`, replaced by a draw of `Beta(2, 1)` (positive).
    /// `--bias-init` is ignored (the bias is part of the row).
    Rai,
}

/// Bias initialization (`--bias-init`).
#[derive(Debug, Clone, PartialEq)]
pub enum BiasInit {
    /// The scheme's own default (`same` for uniform, normal, torch-default; `zero` else).
    Default,
    /// All zero.
    Zero,
    /// The same distribution as the layer's weights.
    Same,
    /// iid `U(-C, C)`.
    Uniform(BigRational),
    /// iid `N(0, S^2)`.
    Normal(BigRational),
    /// All equal to `V`.
    Const(BigRational),
}

fn positive(what: &'static str, spec: &str, text: &str) -> Result<BigRational, InitError> {
    let bad = |reason: String| InitError::Spec {
        what,
        spec: spec.into(),
        reason,
    };
    let v = parse_rational(text).map_err(|source| InitError::Number {
        what,
        spec: spec.into(),
        source,
    })?;
    if !v.is_positive() {
        return Err(bad("the scale must be > 0".into()));
    }
    // U(-C, C) needs the width 2C finite in f64 (rand's Uniform panics otherwise).
    if !ToPrimitive::to_f64(&v).is_some_and(|f| f > 0.0 && f <= f64::MAX / 2.0) {
        return Err(bad(format!(
            "the scale must be a positive double of at most {:e} (draws are made in f64)",
            f64::MAX / 2.0
        )));
    }
    Ok(v)
}

/// A constant bias: any exact value whose f64 image is finite, and nonzero when the value
/// is (draws and Monte Carlo run in f64, where `1e-400` would silently become 0).
fn constant(spec: &str, text: &str) -> Result<BigRational, InitError> {
    let bad = |reason: String| InitError::Spec {
        what: "--bias-init",
        spec: spec.into(),
        reason,
    };
    let v = parse_rational(text).map_err(|source| InitError::Number {
        what: "--bias-init",
        spec: spec.into(),
        source,
    })?;
    let f = ToPrimitive::to_f64(&v).unwrap_or(f64::NAN);
    if !f.is_finite() || (f == 0.0 && !num_traits::Zero::is_zero(&v)) {
        return Err(bad(format!(
            "const:{text} is outside the range of f64, where draws and Monte Carlo run"
        )));
    }
    Ok(v)
}

impl std::str::FromStr for InitScheme {
    type Err = InitError;
    fn from_str(spec: &str) -> Result<Self, InitError> {
        Ok(match spec {
            "torch-default" => InitScheme::TorchDefault,
            "he-normal" => InitScheme::HeNormal,
            "he-uniform" => InitScheme::HeUniform,
            "glorot-normal" => InitScheme::GlorotNormal,
            "glorot-uniform" => InitScheme::GlorotUniform,
            "lecun-normal" => InitScheme::LecunNormal,
            "rai" => InitScheme::Rai,
            _ => {
                if let Some(c) = spec.strip_prefix("uniform:") {
                    InitScheme::Uniform(positive("--init", spec, c)?)
                } else if let Some(s) = spec.strip_prefix("normal:") {
                    InitScheme::Normal(positive("--init", spec, s)?)
                } else {
                    return Err(InitError::Spec {
                        what: "--init",
                        spec: spec.into(),
                        reason: "expected uniform:C, normal:S, torch-default, he-normal, he-uniform, glorot-normal, glorot-uniform, lecun-normal or rai".into(),
                    });
                }
            }
        })
    }
}

impl std::fmt::Display for InitScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitScheme::Uniform(c) => write!(f, "uniform:{}", crate::scalar::rational_string(c)),
            InitScheme::Normal(s) => write!(f, "normal:{}", crate::scalar::rational_string(s)),
            InitScheme::TorchDefault => f.write_str("torch-default"),
            InitScheme::HeNormal => f.write_str("he-normal"),
            InitScheme::HeUniform => f.write_str("he-uniform"),
            InitScheme::GlorotNormal => f.write_str("glorot-normal"),
            InitScheme::GlorotUniform => f.write_str("glorot-uniform"),
            InitScheme::LecunNormal => f.write_str("lecun-normal"),
            InitScheme::Rai => f.write_str("rai"),
        }
    }
}

impl std::str::FromStr for BiasInit {
    type Err = InitError;
    fn from_str(spec: &str) -> Result<Self, InitError> {
        Ok(match spec {
            "zero" => BiasInit::Zero,
            "same" => BiasInit::Same,
            "default" => BiasInit::Default,
            _ => {
                if let Some(c) = spec.strip_prefix("uniform:") {
                    BiasInit::Uniform(positive("--bias-init", spec, c)?)
                } else if let Some(s) = spec.strip_prefix("normal:") {
                    BiasInit::Normal(positive("--bias-init", spec, s)?)
                } else if let Some(v) = spec.strip_prefix("const:") {
                    BiasInit::Const(constant(spec, v)?)
                } else {
                    return Err(InitError::Spec {
                        what: "--bias-init",
                        spec: spec.into(),
                        reason: "expected zero, same, uniform:C, normal:S or const:V".into(),
                    });
                }
            }
        })
    }
}

/// One layer's distribution of an entry.
#[derive(Debug, Clone, Copy)]
pub enum EntryDist {
    /// `U(-c, c)`, half-open, and `c`.
    Uniform(Uniform<f64>, f64),
    /// `N(0, s^2)`.
    Normal(Normal<f64>),
    /// A constant (no draw).
    Const(f64),
}

impl EntryDist {
    fn uniform(c: f64) -> Self {
        EntryDist::Uniform(Uniform::new(-c, c), c)
    }
    fn normal(s: f64) -> Self {
        EntryDist::Normal(Normal::new(0.0, s).expect("validated positive finite scale"))
    }
    /// One draw (no draw for a constant).
    #[inline]
    pub fn draw<R: Rng>(&self, rng: &mut R) -> f64 {
        match self {
            EntryDist::Uniform(u, _) => u.sample(rng),
            EntryDist::Normal(n) => n.sample(rng),
            EntryDist::Const(v) => *v,
        }
    }
}

/// A prepared sampler for one architecture and scheme: per layer the weight and bias
/// distributions. Reused across Monte Carlo trials.
#[derive(Debug, Clone)]
pub struct InitSampler {
    arch: Arch,
    layers: Vec<(EntryDist, EntryDist)>,
    rai: bool,
}

/// The seeded generator of trial `trial` under `seed` (see the module docs).
pub fn trial_rng(seed: u64, trial: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(trial);
    rng
}

fn to_f64(q: &BigRational) -> f64 {
    ToPrimitive::to_f64(q).unwrap_or(f64::NAN)
}

impl InitSampler {
    /// Prepares the distributions of every layer.
    pub fn new(arch: &Arch, scheme: &InitScheme, bias: &BiasInit) -> Self {
        let layers = (1..=arch.depth())
            .map(|k| {
                let (fan_in, fan_out) = (arch.width(k - 1) as f64, arch.width(k) as f64);
                let (weight, default_same) = match scheme {
                    InitScheme::Uniform(c) => (EntryDist::uniform(to_f64(c)), true),
                    InitScheme::Normal(s) => (EntryDist::normal(to_f64(s)), true),
                    InitScheme::TorchDefault => (EntryDist::uniform(1.0 / fan_in.sqrt()), true),
                    InitScheme::HeNormal => (EntryDist::normal((2.0 / fan_in).sqrt()), false),
                    InitScheme::HeUniform => (EntryDist::uniform((6.0 / fan_in).sqrt()), false),
                    InitScheme::GlorotNormal => {
                        (EntryDist::normal((2.0 / (fan_in + fan_out)).sqrt()), false)
                    }
                    InitScheme::GlorotUniform => {
                        (EntryDist::uniform((6.0 / (fan_in + fan_out)).sqrt()), false)
                    }
                    InitScheme::LecunNormal => (EntryDist::normal((1.0 / fan_in).sqrt()), false),
                    InitScheme::Rai => (EntryDist::normal((2.0 / fan_in).sqrt()), true),
                };
                let bias = match bias {
                    _ if *scheme == InitScheme::Rai => weight,
                    BiasInit::Default if default_same => weight,
                    BiasInit::Default | BiasInit::Zero => EntryDist::Const(0.0),
                    BiasInit::Same => weight,
                    BiasInit::Uniform(c) => EntryDist::uniform(to_f64(c)),
                    BiasInit::Normal(s) => EntryDist::normal(to_f64(s)),
                    BiasInit::Const(v) => EntryDist::Const(to_f64(v)),
                };
                (weight, bias)
            })
            .collect();
        Self {
            arch: arch.clone(),
            layers,
            rai: *scheme == InitScheme::Rai,
        }
    }

    /// The distributions `(weights, biases)` of layer `k` (1-based).
    pub fn layer(&self, k: usize) -> &(EntryDist, EntryDist) {
        &self.layers[k - 1]
    }

    /// Fills `theta` (length `D`) with one draw in layout order.
    pub fn sample_into<R: Rng>(&self, rng: &mut R, theta: &mut [f64]) {
        let mut idx = 0;
        for (k, (w, b)) in self.layers.iter().enumerate() {
            let (rows, cols) = (self.arch.width(k + 1), self.arch.width(k));
            for slot in &mut theta[idx..idx + rows * cols] {
                *slot = w.draw(rng);
            }
            idx += rows * cols;
            for slot in &mut theta[idx..idx + rows] {
                *slot = b.draw(rng);
            }
            if self.rai {
                // one entry of each row (W_j, B_j) becomes a positive Beta(2, 1) draw
                let beta = rand_distr::Beta::new(2.0, 1.0).expect("valid Beta parameters");
                for j in 0..rows {
                    let pick = rng.gen_range(0..=cols);
                    let value = beta.sample(rng);
                    let slot = if pick < cols {
                        idx - rows * cols + j * cols + pick
                    } else {
                        idx + j
                    };
                    theta[slot] = value;
                }
            }
            idx += rows;
        }
    }

    /// The architecture the sampler draws for.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    /// Whether the scheme is `rai` (randomized asymmetric initialization).
    pub fn is_rai(&self) -> bool {
        self.rai
    }

    /// One draw of theta as `f64`.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> Vec<f64> {
        let mut theta = vec![0.0; self.arch.num_params()];
        self.sample_into(rng, &mut theta);
        theta
    }
}

/// The network of trial 0 under `seed`: the `f64` draw converted exactly to `S`.
///
/// # Errors
/// [`InitError::Scalar`] if a draw is not finite (cannot happen for validated scales).
pub fn init_network<S: Scalar>(
    arch: &Arch,
    scheme: &InitScheme,
    bias: &BiasInit,
    seed: u64,
) -> Result<Network<S>, InitError> {
    let theta = InitSampler::new(arch, scheme, bias).sample(&mut trial_rng(seed, 0));
    Ok(Network::new(arch.clone(), vec_from_f64(&theta)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_constants_outside_f64_are_refused() {
        for spec in ["uniform:1e308", "normal:1e309", "uniform:0", "normal:-1"] {
            assert!(
                matches!(
                    spec.parse::<InitScheme>(),
                    Err(InitError::Spec { what: "--init", .. })
                ),
                "{spec}"
            );
        }
        assert!("uniform:8e307".parse::<InitScheme>().is_ok());
        for spec in ["const:-1e400", "const:1e-400", "uniform:1e308"] {
            assert!(
                matches!(
                    spec.parse::<BiasInit>(),
                    Err(InitError::Spec {
                        what: "--bias-init",
                        ..
                    })
                ),
                "{spec}"
            );
        }
        assert!(matches!(
            "const:1/3".parse::<BiasInit>(),
            Ok(BiasInit::Const(_))
        ));
        assert!(matches!(
            "const:0".parse::<BiasInit>(),
            Ok(BiasInit::Const(_))
        ));
    }

    #[test]
    fn torch_default_ranges_and_determinism() {
        let arch = Arch::new(vec![4, 16, 1]).unwrap();
        let s = InitSampler::new(&arch, &InitScheme::TorchDefault, &BiasInit::Default);
        let a = s.sample(&mut trial_rng(3, 0));
        let b = s.sample(&mut trial_rng(3, 0));
        let c = s.sample(&mut trial_rng(3, 1));
        assert_eq!(a, b);
        assert_ne!(a, c);
        for k in 1..=2 {
            let bound = 1.0 / (arch.width(k - 1) as f64).sqrt();
            assert!(a[arch.layer_range(k)].iter().all(|v| f64::abs(*v) <= bound));
        }
        // biases are drawn too
        assert!(a[arch.bias_index(1, 0)] != 0.0);
    }

    #[test]
    fn he_has_zero_biases_unless_told() {
        let arch = Arch::new(vec![2, 3, 1]).unwrap();
        let t = InitSampler::new(&arch, &InitScheme::HeNormal, &BiasInit::Default)
            .sample(&mut trial_rng(1, 0));
        assert!((0..3).all(|j| t[arch.bias_index(1, j)] == 0.0));
        let t = InitSampler::new(
            &arch,
            &InitScheme::HeNormal,
            &BiasInit::Const(BigRational::new(1.into(), 4.into())),
        )
        .sample(&mut trial_rng(1, 0));
        assert!((0..3).all(|j| t[arch.bias_index(1, j)] == 0.25));
    }

    #[test]
    fn bad_specs() {
        for bad in ["uniform:0", "uniform:-1", "kaiming"] {
            assert!(
                matches!(bad.parse::<InitScheme>(), Err(InitError::Spec { .. })),
                "{bad}"
            );
        }
        // not a number: the parser's ScalarError kept as the source
        for bad in ["normal:x", "uniform:"] {
            let e = bad.parse::<InitScheme>().unwrap_err();
            assert!(
                matches!(e, InitError::Number { what: "--init", ref spec, .. } if spec == bad),
                "{bad}"
            );
            assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<ScalarError>()));
            assert!(
                e.to_string().starts_with(&format!("bad --init {bad:?}: ")),
                "{e}"
            );
        }
        assert!(matches!(
            "const:".parse::<BiasInit>(),
            Err(InitError::Number {
                what: "--bias-init",
                ..
            })
        ));
    }
}
