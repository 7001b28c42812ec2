//! The outcome of training one trial's network: dead at initialization, became constant
//! on the data, stayed at or above the best-constant risk `V`, went below it, diverged.

use super::TrainingCounts;
use crate::data::Dataset;
use crate::net::{Arch, Network};
use crate::optim::OptimizerConfig;
use crate::optim::train::{TrainConfig, train};

impl TrainingCounts {
    /// Counts the outcome of the trial drawn as `theta` (all `D` entries): dead at
    /// initialization when `dead` (not trained), else trained on `data` with `opt` and
    /// `config` and classified against the best-constant risk `v`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn tally_trained(
        &mut self,
        dead: bool,
        arch: &Arch,
        theta: &[f64],
        data: &Dataset<f64>,
        opt: &OptimizerConfig<f64>,
        config: &TrainConfig,
        v: f64,
    ) {
        if dead {
            self.dead_at_init += 1;
            return;
        }
        let net = Network::new(arch.clone(), theta.to_vec()).expect("sampler fills D parameters");
        match train(&net, data, opt, config, None, |_| {}) {
            Ok(run) if run.diverged || !run.risk_final.is_finite() => self.diverged += 1,
            Ok(run) if run.risk_final < v => self.below_best_constant += 1,
            Ok(run) => {
                let constant = crate::activity::activity_on_data(&run.last, data)
                    .map(|a| a.constant_on_data())
                    .unwrap_or(false);
                if constant {
                    self.became_constant += 1;
                } else {
                    self.above_best_constant += 1;
                }
            }
            Err(_) => self.diverged += 1,
        }
    }
}
