//! The relaxation of a node, rebuilt exactly from its stated bounds, and the exact
//! check of a neuron's proof by multipliers of its rows (see the parent module's docs).

use super::*;

/// A node's relaxation, rebuilt exactly from its stated bounds.
pub(super) struct Relaxation {
    pub(super) bounds: Vec<Vec<Interval>>,
    pub(super) states: Vec<Vec<State>>,
    /// Variable of `a_{l,n}` per layer `1..k-1`.
    pub(super) vars: Vec<Vec<Option<usize>>>,
    /// `(lo, hi)` per variable.
    pub(super) var_bounds: Vec<Interval>,
}

/// `z_{l,n} = g . v + c` over the variables of layer `l - 1` (the inputs for `l = 1`).
pub(super) fn form<'n>(
    net: Net<'n>,
    rel: &Relaxation,
    l: usize,
    n: usize,
) -> (Vec<(usize, &'n BigRational)>, BigRational) {
    let (w, b) = net.layer(l);
    let cols = net.widths[l - 1];
    let row = &w[n * cols..(n + 1) * cols];
    let g = row
        .iter()
        .enumerate()
        .filter(|(_, wi)| !wi.is_zero())
        .filter_map(|(i, wi)| {
            let var = if l == 1 { Some(i) } else { rel.vars[l - 2][i] };
            var.map(|v| (v, wi))
        })
        .collect();
    (g, b[n].clone())
}

impl Replay<'_> {
    pub(super) fn relaxation(&self, bounds: Vec<Vec<Interval>>) -> Relaxation {
        let mut var_bounds: Vec<Interval> = self.region.clone();
        let mut states = Vec::with_capacity(bounds.len());
        let mut vars = Vec::with_capacity(bounds.len());
        for (li, layer) in bounds.iter().enumerate() {
            let mut st = Vec::with_capacity(layer.len());
            let mut vs = Vec::with_capacity(layer.len());
            for (n, (lo, hi)) in layer.iter().enumerate() {
                let s = match self.fix[li][n] {
                    Some(false) => State::Off,
                    Some(true) => State::On,
                    None if !hi.is_positive() => State::Off,
                    None if !lo.is_negative() => State::On,
                    None => State::Unstable,
                };
                vs.push((s != State::Off).then(|| {
                    var_bounds.push((relu(lo), relu(hi)));
                    var_bounds.len() - 1
                }));
                st.push(s);
            }
            states.push(st);
            vars.push(vs);
        }
        Relaxation {
            bounds,
            states,
            vars,
            var_bounds,
        }
    }

    /// Adds `y` times row `(kind, l, n)` to the running residual `r` (as `-y g`) and the
    /// bound (as `y h`).
    pub(super) fn add_row(
        &mut self,
        rel: &Relaxation,
        kind: &str,
        (l, n): (usize, usize),
        y: &BigRational,
        r: &mut [BigRational],
        bound: &mut BigRational,
    ) -> Result<(), CheckError> {
        let bad = |why: &str| {
            fails(
                Claim::DomainProof,
                format!("multiplier of row {kind} of neuron {n} of layer {l}: {why}"),
            )
        };
        if l == 0 || l >= self.k || n >= self.net.widths[l] {
            return Err(bad("no such neuron below layer k"));
        }
        let state = rel.states[l - 1][n];
        let (g, c) = form(self.net, rel, l, n);
        let a = rel.vars[l - 1][n];
        // the row as (scale of g, coefficient of a, right-hand side)
        let one = BigRational::one();
        let (scale, a_coef, rhs): (BigRational, Option<BigRational>, BigRational) = match kind {
            "fix" => match self.fix[l - 1][n] {
                Some(false) => (one, None, -c),
                Some(true) => (-one, None, c),
                None => return Err(bad("the neuron is not fixed on this node")),
            },
            "eq_up" if state == State::On => (-one.clone(), Some(one), c),
            "eq_down" if state == State::On => (one.clone(), Some(-one), -c),
            "gez" if state == State::Unstable => (one.clone(), Some(-one), -c),
            "tri" if state == State::Unstable => {
                let (lo, hi) = &rel.bounds[l - 1][n];
                self.meter.op(bits(hi), bits(&c) + bits(lo))?;
                (-hi.clone(), Some(hi - lo), hi * &c - hi * lo)
            }
            "eq_up" | "eq_down" | "gez" | "tri" => {
                return Err(bad(
                    "the row does not exist for the neuron's state on this node",
                ));
            }
            _ => {
                return Err(unreadable(format!(
                    "domain.proof: unknown row kind {kind:?}"
                )));
            }
        };
        self.meter.op(bits(y), bits(&rhs))?;
        *bound += y * &rhs;
        let ys = y * &scale;
        for (v, wi) in g {
            self.meter.op(bits(&ys), bits(wi))?;
            r[v] -= &ys * wi;
        }
        if let (Some(v), Some(coef)) = (a, a_coef) {
            r[v] -= y * coef;
        }
        Ok(())
    }

    /// Verifies the proof `p` of neuron `j` of layer `k` on a node.
    pub(super) fn neuron(
        &mut self,
        rel: &Relaxation,
        j: usize,
        p: &Value,
    ) -> Result<(), CheckError> {
        if p.as_str() == Some("interval") {
            let inputs = self.inputs(self.k, &rel.bounds);
            let (_, hi) = self.interval(self.k, j, &inputs)?;
            if hi.is_positive() {
                return Err(fails(
                    Claim::DomainProof,
                    format!(
                        "interval bounds do not prove neuron {j} of layer {} inactive on a node (upper bound {})",
                        self.k,
                        brief(&hi)
                    ),
                ));
            }
            return Ok(());
        }
        let list = p.as_array().ok_or_else(|| {
            unreadable("domain.proof: a neuron's proof is \"interval\" or a list of multipliers")
        })?;
        let bound = self.multiplier_bound(rel, self.k, j, false, list)?;
        if bound.is_positive() {
            return Err(fails(
                Claim::DomainProof,
                format!(
                    "the multipliers bound neuron {j} of layer {} only by {} > 0 on a node",
                    self.k,
                    brief(&bound)
                ),
            ));
        }
        Ok(())
    }

    /// The exact safe bound of `z_{l,j}` (of `-z_{l,j}` if `negate`) over `rel` from the
    /// multipliers `list` of rows of the layers before `l`.
    pub(super) fn multiplier_bound(
        &mut self,
        rel: &Relaxation,
        l: usize,
        j: usize,
        negate: bool,
        list: &[Value],
    ) -> Result<BigRational, CheckError> {
        let (g, c) = form(self.net, rel, l, j);
        let mut r: Vec<BigRational> = vec![BigRational::zero(); rel.var_bounds.len()];
        for (v, wi) in g {
            if negate {
                r[v] -= wi;
            } else {
                r[v] += wi;
            }
        }
        let mut bound = if negate { -c } else { c };
        for m in list {
            let (kind, row_l, n, y) = match m.as_array().map(Vec::as_slice) {
                Some([kind, rl, n, y]) => (
                    kind.as_str()
                        .ok_or_else(|| unreadable("row kind: expected a string"))?,
                    count(rl, "row layer")?,
                    count(n, "row neuron")?,
                    number(y, "multiplier")?,
                ),
                _ => return Err(unreadable("a multiplier is [kind, layer, neuron, \"y\"]")),
            };
            if row_l == 0 || row_l >= l {
                return Err(fails(
                    Claim::DomainProof,
                    format!("a multiplier of a row of layer {row_l} in a bound of layer {l}"),
                ));
            }
            if !y.is_positive() {
                return Err(fails(Claim::DomainProof, "a multiplier is not positive"));
            }
            self.add_row(rel, kind, (row_l, n), &y, &mut r, &mut bound)?;
        }
        for (ri, (lo, hi)) in r.iter().zip(&rel.var_bounds) {
            if ri.is_positive() {
                self.meter.op(bits(ri), bits(hi))?;
                bound += ri * hi;
            } else if ri.is_negative() {
                self.meter.op(bits(ri), bits(lo))?;
                bound += ri * lo;
            }
        }
        Ok(bound)
    }
}
