//! Integer tallies of Monte Carlo trials: what each trial was, summed in any order.

use super::Simulator;
use crate::net::Arch;
use crate::stats::trial_lanes::LaneDecider;

/// Integer tallies of a batch of trials for one configuration (mergeable).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Trials run.
    pub trials: u64,
    /// Trials with some hidden layer dead on the data.
    pub dead_layer: u64,
    /// Trials with at least one first-layer neuron inactive on the data.
    pub first_layer_inactive: u64,
    /// `inactive_hist[k-1][c]`: trials with exactly `c` inactive neurons in hidden layer `k`.
    pub inactive_hist: Vec<Vec<u64>>,
    /// Training outcomes (when training): dead at init, became constant, stayed at or
    /// above the best-constant risk, went below it, diverged.
    pub training: Option<TrainingCounts>,
    /// On a box ([`crate::stats::onbox`]): trials where no layer was proven dead and some
    /// decision ran out of its budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undecided: Option<u64>,
    /// On a box, neuron by neuron: per hidden layer, the trials whose number of inactive
    /// neurons is not determined within the budget (not in `inactive_hist`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inactive_undecided: Vec<u64>,
    /// Trials whose `f64` forward pass overflowed (a pre-activation not finite): their
    /// decision is meaningless in `f64`, so they are counted here and nowhere else.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub overflowed: u64,
    /// Trials with a near tie: some hidden pre-activation whose sign the rigorous `f64`
    /// rounding bound does not settle, so that the dead-layer decision could be wrong in
    /// `f64` ([`super::near_ties`]); counted here and nowhere else.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub near_ties: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Outcomes of training runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrainingCounts {
    /// Some hidden layer dead at initialization (the mechanism).
    pub dead_at_init: u64,
    /// Alive at initialization, constant on the data at the end.
    pub became_constant: u64,
    /// Not constant, final risk `>= V`.
    pub above_best_constant: u64,
    /// Final risk `< V`.
    pub below_best_constant: u64,
    /// A non-finite risk appeared.
    pub diverged: u64,
}

impl TrainingCounts {
    fn add(&mut self, o: &Self) {
        self.dead_at_init += o.dead_at_init;
        self.became_constant += o.became_constant;
        self.above_best_constant += o.above_best_constant;
        self.below_best_constant += o.below_best_constant;
        self.diverged += o.diverged;
    }
}

impl Counts {
    /// Zero counts for an architecture.
    pub fn zero(arch: &Arch, training: bool) -> Self {
        Self {
            trials: 0,
            dead_layer: 0,
            first_layer_inactive: 0,
            inactive_hist: arch
                .hidden_layers()
                .map(|k| vec![0; arch.width(k) + 1])
                .collect(),
            training: training.then(TrainingCounts::default),
            undecided: None,
            inactive_undecided: Vec::new(),
            overflowed: 0,
            near_ties: 0,
        }
    }
    /// Counts one trial: whether some hidden layer is dead, and the number of inactive
    /// neurons per hidden layer.
    pub(super) fn tally(&mut self, dead: bool, inactive: impl Iterator<Item = u32>) {
        self.trials += 1;
        self.dead_layer += dead as u64;
        for (k, (hist, n)) in self.inactive_hist.iter_mut().zip(inactive).enumerate() {
            if k == 0 {
                self.first_layer_inactive += (n > 0) as u64;
            }
            hist[n as usize] += 1;
        }
    }

    /// Counts one trial whose `f64` forward pass overflowed.
    pub(super) fn tally_overflow(&mut self) {
        self.trials += 1;
        self.overflowed += 1;
    }

    /// Counts one trial with a near tie.
    pub(super) fn tally_near_tie(&mut self) {
        self.trials += 1;
        self.near_ties += 1;
    }

    /// Counts the last trial of `sim`: overflowed, a near tie, or decided.
    pub(super) fn tally_sim(&mut self, sim: &Simulator<'_>, dead: bool) {
        if sim.overflowed {
            self.tally_overflow();
        } else if sim.near_tie {
            self.tally_near_tie();
        } else {
            self.tally(dead, sim.inactive.iter().map(|&n| n as u32));
        }
    }

    /// Counts the trial of lane `l` of a [`LaneDecider`]'s last decision: its float
    /// decision when the a-priori bound settles it, else the decision of
    /// [`super::near_ties::settle`] (`x`: the inputs), or a near tie.
    pub(super) fn tally_lane(
        &mut self,
        lanes: &LaneDecider,
        errors: &[f64],
        l: usize,
        arch: &Arch,
        thetas: &[[f64; crate::stats::lanes::LANES]],
        x: &ndarray::Array2<f64>,
    ) {
        if lanes.settled(l, errors) {
            self.tally(lanes.dead[l], lanes.inactive.iter().map(|n| n[l]));
            return;
        }
        let theta: Vec<f64> = thetas[..lanes.params()].iter().map(|v| v[l]).collect();
        match super::near_ties::settle(arch, &theta, x) {
            Some((dead, inactive)) => self.tally(dead, inactive.into_iter()),
            None => self.tally_near_tie(),
        }
    }

    /// Adds another tally of the same configuration.
    pub fn plus(mut self, other: &Self) -> Self {
        self.trials += other.trials;
        self.overflowed += other.overflowed;
        self.near_ties += other.near_ties;
        self.dead_layer += other.dead_layer;
        self.first_layer_inactive += other.first_layer_inactive;
        for (a, b) in self.inactive_hist.iter_mut().zip(&other.inactive_hist) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        if let (Some(a), Some(b)) = (self.training.as_mut(), other.training.as_ref()) {
            a.add(b);
        }
        if let (Some(a), Some(b)) = (self.undecided.as_mut(), other.undecided) {
            *a += b;
        }
        for (a, b) in self
            .inactive_undecided
            .iter_mut()
            .zip(&other.inactive_undecided)
        {
            *a += b;
        }
        self
    }
}
