//! `deadrelu bound`: the exact (or certified) probability that a first-layer neuron is
//! inactive on a box, and that at least one of `--width` is.

use crate::cli::CliError;
use crate::cli::args::{BoxDomain, Given};
use crate::cli::format::{exact_probability, print_json, to_f64};
use crate::net::init::{BiasInit, InitScheme};
use crate::scalar::{BigRational, rational_string};
use crate::stats::bound::{BiasTerm, exact_bias_term, p_inactive_uniform};
use clap::Args;
use serde_json::json;

/// Widths up to which `bound --width` gives `1 - (1-p)^w` as an exact rational.
const MAX_EXACT_WIDTH: usize = 4096;

/// A rigorous enclosure of `1 - (1-p)^w` for `p` in `[p_lo, p_hi]` (within `[0, 1]`):
/// `(1-p)^w` by square-and-multiply in `f64`, each product widened by one ulp outward
/// (round-to-nearest errs by at most half an ulp), so the bounds hold for any `w`, in at
/// most 128 multiplications.
fn at_least_one_of(p_lo: f64, p_hi: f64, w: usize) -> (f64, f64) {
    let (mut base_lo, mut base_hi) = (
        (1.0 - p_hi).next_down().max(0.0),
        (1.0 - p_lo).next_up().min(1.0),
    );
    let (mut acc_lo, mut acc_hi) = (1.0f64, 1.0f64);
    let mut e = w;
    while e > 0 {
        if e & 1 == 1 {
            acc_lo = (acc_lo * base_lo).next_down().max(0.0);
            acc_hi = (acc_hi * base_hi).next_up().min(1.0);
        }
        base_lo = (base_lo * base_lo).next_down().max(0.0);
        base_hi = (base_hi * base_hi).next_up().min(1.0);
        e >>= 1;
    }
    (
        (1.0 - acc_hi).next_down().max(0.0),
        (1.0 - acc_lo).next_up().min(1.0),
    )
}

/// Options of `bound`.
#[derive(Args, Debug, Clone)]
pub struct BoundArgs {
    /// Initialization: uniform:C, torch-default, he-uniform, glorot-uniform (exact p);
    /// normal:S, he-normal, glorot-normal (needs l_1, the second entry of --arch, unless biases are zero),
    /// lecun-normal, rai (certified enclosure p_lo, p_hi; p when rational).
    #[arg(long, default_value = "torch-default")]
    pub init: Given<InitScheme>,
    /// Biases: default (the scheme's own), zero, same (as the weights), uniform:C, normal:S,
    /// const:V.
    #[arg(long, default_value = "default")]
    pub bias_init: Given<BiasInit>,
    /// Widths l_0,l_1,...: the input dimension d = l_0 and the first-layer width l_1
    /// (deeper widths are not used), e.g. 2,8,1.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["inputs", "width"])]
    pub arch: Option<Vec<usize>>,
    /// The input box [A,B]^d, as box:A,B [default: box:-1,1].
    #[arg(long, allow_hyphen_values = true, conflicts_with = "box")]
    pub domain: Option<BoxDomain>,
    /// Older spelling of the first entry of --arch: the input dimension d [default: 1].
    #[arg(long)]
    pub inputs: Option<usize>,
    /// Older spelling of --domain: A,B.
    #[arg(long, allow_hyphen_values = true)]
    pub r#box: Option<String>,
    /// Older spelling of the second entry of --arch: the first-layer width l_1, for
    /// P(at least one of l_1 neurons inactive).
    #[arg(long)]
    pub width: Option<usize>,
    /// Print one JSON object on stdout and nothing else there.
    #[arg(long)]
    pub json: bool,
}

/// Runs `bound`.
///
/// # Errors
/// [`CliError::Input`] for bad options.
pub fn run_bound(args: &BoundArgs) -> Result<(), CliError> {
    let scheme: InitScheme = args.init.value.clone();
    let bias: BiasInit = args.bias_init.value.clone();
    let (a, b) = match (&args.domain, &args.r#box) {
        (Some(domain), _) => (domain.lo.clone(), domain.hi.clone()),
        (None, Some(text)) => {
            let (a, b) = text.split_once(',').ok_or_else(|| {
                CliError::Input(format!(
                    "--box {}: expected A,B",
                    crate::limits::shown(text)
                ))
            })?;
            (
                crate::scalar::parse_rational(a).map_err(|e| CliError::input("--box", e))?,
                crate::scalar::parse_rational(b).map_err(|e| CliError::input("--box", e))?,
            )
        }
        (None, None) => (
            BigRational::from_integer((-1).into()),
            BigRational::from_integer(1.into()),
        ),
    };
    if a > b {
        return Err(CliError::Input("--domain: A must be <= B".into()));
    }
    let (inputs, width) = match &args.arch {
        Some(widths) => {
            if widths.is_empty() || widths.contains(&0) {
                return Err(CliError::Input(
                    "--arch: expected widths l_0,l_1,... all >= 1".into(),
                ));
            }
            (widths[0], widths.get(1).copied())
        }
        None => (args.inputs.unwrap_or(1), args.width),
    };
    if inputs == 0 || inputs > 64 {
        return Err(CliError::Input(
            "--arch: the input dimension l_0 must be in 1..=64".into(),
        ));
    }
    let term: Option<BiasTerm> = if scheme == InitScheme::Rai {
        if args.bias_init.text != "default" {
            crate::cli::warn("--bias-init is ignored with --init rai: rai draws its own biases");
        }
        None
    } else {
        exact_bias_term(&scheme, &bias)
    };
    let exact = term.map(|t| p_inactive_uniform(inputs, &a, &b, &t));
    let enclosure = match &exact {
        Some(_) => None,
        None => crate::stats::bound_normal::p_enclosure(&scheme, &bias, inputs, width, &a, &b)
            .map_err(|e| CliError::input(&format!("--init {}", args.init), e))?,
    };
    let p = exact.or_else(|| enclosure.as_ref().and_then(|e| e.exact.clone()));
    let (p_lo, p_hi) = match (&p, &enclosure) {
        (Some(p), _) => enclose_f64(p),
        (None, Some(e)) => (Some(e.lo), Some(e.hi)),
        (None, None) => (None, None),
    };
    // Exactly for widths up to MAX_EXACT_WIDTH; beyond, (1-p)^w has too many digits to
    // print, and only the rigorous f64 enclosure is given.
    let one = || BigRational::from_integer(1.into());
    let exact_at_least_one = match (&p, width) {
        (Some(p), Some(w)) if w <= MAX_EXACT_WIDTH => {
            Some(one() - num_traits::pow::pow(one() - p, w))
        }
        _ => None,
    };
    // 1 - (1-p)^w is increasing in p: the enclosure's ends give its enclosure
    let at_least_one_range = match (p_lo, p_hi, width) {
        (Some(lo), Some(hi), Some(w)) => Some(at_least_one_of(lo, hi, w)),
        _ => None,
    };
    let mut v = json!({
        "init": args.init.text,
        "bias_init": args.bias_init.text,
        "inputs": inputs,
        "box": [rational_string(&a), rational_string(&b)],
        "p": p.as_ref().map(rational_string),
        "p_lo": p_lo,
        "p_hi": p_hi,
        "width": width,
        "p_at_least_one_dead": exact_at_least_one.as_ref().map(rational_string),
        "p_at_least_one_dead_f64": exact_at_least_one.as_ref().map(to_f64),
        "p_at_least_one_dead_range": at_least_one_range.map(|(lo, hi)| [lo, hi]),
        "series_budget_exhausted": enclosure.as_ref().is_some_and(|e| e.exhausted),
        "note": if p_lo.is_none() { Some("no p for this scheme and bias (uniform weights with a bias not a rational multiple of their scale, or normal biases)") } else { None },
    });
    if p.is_none()
        && let Some(o) = v.as_object_mut()
    {
        // `p` only when rational; the enclosure always
        o.remove("p");
        o.remove("p_at_least_one_dead");
        o.remove("p_at_least_one_dead_f64");
    }
    if args.json {
        print_json(&v);
        return Ok(());
    }
    let label = format!(
        "P(one first-layer neuron inactive on [{}, {}]^{})",
        rational_string(&a),
        rational_string(&b),
        inputs
    );
    match (&p, p_lo, p_hi) {
        (Some(p), _, _) => println!("{label} = {}", exact_probability(p)),
        (None, Some(lo), Some(hi)) => {
            println!("{label} in [{lo:.12}, {hi:.12}] (certified)");
            if enclosure.as_ref().is_some_and(|e| e.exhausted) {
                println!(
                    "  (wider than the 1e-8 target: the Fourier series budget of {} terms ran out; \
                     scales many orders apart converge slowly)",
                    crate::stats::bound_normal::MAX_TERMS
                );
            }
        }
        _ => println!(
            "no p for {} with biases {} (see `deadrelu bound --help`)",
            args.init, args.bias_init
        ),
    }
    if let (Some(q), Some(w)) = (&exact_at_least_one, width) {
        println!(
            "P(at least one of {w} first-layer neurons inactive) = {}",
            exact_probability(q)
        );
    } else if let (Some((lo, hi)), Some(w)) = (at_least_one_range, width) {
        println!("P(at least one of {w} first-layer neurons inactive) in [{lo:.10}, {hi:.10}]");
    }
    Ok(())
}

/// The doubles just below and above an exact rational.
fn enclose_f64(q: &BigRational) -> (Option<f64>, Option<f64>) {
    let x = to_f64(q);
    let exact = crate::scalar::rational_from_f64(x).ok();
    match exact {
        Some(e) if &e == q => (Some(x), Some(x)),
        Some(e) if &e < q => (Some(x), Some(x.next_up())),
        Some(_) => (Some(x.next_down()), Some(x)),
        None => (None, None),
    }
}
