//! The data of the figures: the configurations of a sweep, their curves, the setup
//! caption.

use super::*;

/// One configuration of the sweep, read from a result object.
#[derive(Clone, Debug)]
pub(super) struct Config {
    pub(super) arch: Vec<usize>,
    pub(super) init: String,
    pub(super) bias_init: String,
}

impl Config {
    pub(super) fn of(r: &Value) -> Config {
        Config {
            arch: r["arch"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_u64().and_then(|v| usize::try_from(v).ok()))
                        .collect()
                })
                .unwrap_or_default(),
            init: r["init"].as_str().unwrap_or("").to_string(),
            bias_init: r["bias_init"].as_str().unwrap_or("default").to_string(),
        }
    }

    pub(super) fn same(&self, other: &Config) -> bool {
        self.arch == other.arch && self.init == other.init && self.bias_init == other.bias_init
    }

    /// L, the number of affine layers.
    pub(super) fn depth(&self) -> usize {
        self.arch.len().saturating_sub(1)
    }

    pub(super) fn hidden(&self) -> &[usize] {
        match self.arch.len() {
            0..=2 => &[],
            n => &self.arch[1..n - 1],
        }
    }

    /// "width 3" when every hidden layer has width 3, else "hidden 8-4-2".
    pub(super) fn width_label(&self) -> String {
        let hidden = self.hidden();
        match hidden.first() {
            Some(&w) if hidden.iter().all(|&v| v == w) => format!("width {w}"),
            _ => format!(
                "hidden {}",
                hidden
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join("-")
            ),
        }
    }

    pub(super) fn arch_label(&self) -> String {
        self.arch
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// Which of init and bias init differ across the sweep, so labels name only those.
pub(super) struct Varies {
    pub(super) init: bool,
    pub(super) bias: bool,
}

impl Varies {
    pub(super) fn of(configs: &[Config]) -> Varies {
        let first = configs.first();
        Varies {
            init: configs
                .iter()
                .any(|c| Some(&c.init) != first.map(|f| &f.init)),
            bias: configs
                .iter()
                .any(|c| Some(&c.bias_init) != first.map(|f| &f.bias_init)),
        }
    }

    pub(super) fn suffix(&self, c: &Config) -> String {
        let mut s = String::new();
        if self.init {
            s.push_str(&format!(", {}", c.init));
        }
        if self.bias {
            s.push_str(&format!(", biases {}", c.bias_init));
        }
        s
    }
}

/// A point of a curve: integer `x`, the estimate with its 95% interval, and the bound.
#[derive(Clone, Copy, Debug)]
pub(super) struct Point {
    pub(super) x: i64,
    pub(super) p: f64,
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) bound: Option<f64>,
}

#[derive(Debug)]
pub(super) struct Series {
    pub(super) label: String,
    pub(super) points: Vec<Point>,
}

/// What the x axis of the probability figure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum XAxis {
    Depth,
    Width,
}

/// The distinct configurations, in order of first appearance, with the first result of each
/// (results repeat a configuration once per optimizer with `--train`).
pub(super) fn distinct(results: &[Value]) -> Vec<(Config, &Value)> {
    let mut out: Vec<(Config, &Value)> = Vec::new();
    for r in results {
        let c = Config::of(r);
        if !out.iter().any(|(o, _)| o.same(&c)) {
            out.push((c, r));
        }
    }
    out
}

pub(super) fn x_axis(configs: &[Config]) -> XAxis {
    let depths: Vec<usize> = configs.iter().map(Config::depth).collect();
    let widths: Vec<Option<usize>> = configs
        .iter()
        .map(|c| c.hidden().first().copied())
        .collect();
    let depth_varies = depths.iter().any(|&d| d != depths[0]);
    let width_varies = widths.iter().any(|&w| w != widths[0]);
    if !depth_varies && width_varies {
        XAxis::Width
    } else {
        XAxis::Depth
    }
}

/// Curves of one probability (`key`, its interval `ci_key`, its bound `bound_key`).
pub(super) fn series(
    configs: &[(Config, &Value)],
    axis: XAxis,
    key: &str,
    ci_key: &str,
    bound_key: &str,
) -> Vec<Series> {
    let plain: Vec<Config> = configs.iter().map(|(c, _)| c.clone()).collect();
    let varies = Varies::of(&plain);
    let mut out: Vec<Series> = Vec::new();
    for (c, r) in configs {
        let Some(p) = r[key].as_f64() else { continue };
        let (x, label) = match axis {
            XAxis::Depth => (
                c.depth(),
                format!("{}{}", c.width_label(), varies.suffix(c)),
            ),
            XAxis::Width => (
                c.hidden().first().copied().unwrap_or(0),
                format!("L = {}{}", c.depth(), varies.suffix(c)),
            ),
        };
        let point = Point {
            x: i64::try_from(x).unwrap_or(i64::MAX),
            p,
            lo: r[ci_key][0].as_f64().unwrap_or(p),
            hi: r[ci_key][1].as_f64().unwrap_or(p),
            bound: r[bound_key].as_f64(),
        };
        match out.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push(point),
            None => out.push(Series {
                label,
                points: vec![point],
            }),
        }
    }
    for s in &mut out {
        s.points.sort_by_key(|p| p.x);
    }
    out
}

/// The setup of the run, one sentence per fact, from the top level of the JSON.
pub(super) fn setup_text(out: &Value, configs: &[Config]) -> String {
    let trials = out["trials"].as_u64().unwrap_or(0);
    let seed = out["seed"].as_u64().unwrap_or(0);
    let mut inits: Vec<String> = Vec::new();
    for c in configs {
        let text = if c.bias_init == "default" {
            c.init.clone()
        } else {
            format!("{} (biases {})", c.init, c.bias_init)
        };
        if !inits.contains(&text) {
            inits.push(text);
        }
    }
    let on = match out["domain"].as_str() {
        Some(domain) => format!(
            "Decided exactly on the whole input box {} (data not used).",
            domain
        ),
        None => format!(
            "Data {} (target {}, data seed {}), decided in f64.",
            out["data"].as_str().unwrap_or("?"),
            out["target"].as_str().unwrap_or("?"),
            out["data_seed"].as_u64().unwrap_or(0)
        ),
    };
    format!(
        "deadrelu estimate: {trials} trials per configuration (seed {seed}, trial i from stream i). \
         {on} Init {}. L = number of affine layers (L - 1 hidden layers).",
        inits.join(", ")
    )
}

pub(super) fn situation(out: &Value) -> &'static str {
    if out["domain"].is_string() {
        "on the box"
    } else {
        "on the data"
    }
}

/// Mean and half-width of the 95% normal interval of the mean count, from a histogram
/// (`hist[c]` trials with `c` inactive neurons).
pub(super) fn mean_interval(hist: &[u64]) -> Option<(f64, f64)> {
    let n: f64 = hist.iter().map(|&v| v as f64).sum();
    if n <= 0.0 {
        return None;
    }
    let mean = hist
        .iter()
        .enumerate()
        .map(|(c, &v)| c as f64 * v as f64)
        .sum::<f64>()
        / n;
    let var = hist
        .iter()
        .enumerate()
        .map(|(c, &v)| (c as f64 - mean).powi(2) * v as f64)
        .sum::<f64>()
        / (n - 1.0).max(1.0);
    Some((mean, 1.96 * (var / n).sqrt()))
}
