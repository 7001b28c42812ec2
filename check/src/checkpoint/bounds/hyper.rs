//! What a bound reads: the hyperparameters (ranges checked) and one coordinate's state.

use crate::CheckError;
use crate::read::{field, number};
use crate::unreadable;
use num_rational::BigRational;
use num_traits::{One, Signed};
use serde_json::Value;

/// The hyperparameters, by PyTorch's names, with their ranges checked.
pub(crate) struct Hyper<'a>(pub(crate) &'a Value);

impl Hyper<'_> {
    pub(super) fn num(&self, name: &str) -> Result<BigRational, CheckError> {
        number(field(self.0, name)?, &format!("hyperparameters.{name}"))
    }
    pub(super) fn flag(&self, name: &str) -> Result<bool, CheckError> {
        field(self.0, name)?
            .as_bool()
            .ok_or_else(|| unreadable(format!("hyperparameters.{name}: expected a boolean")))
    }
    pub(super) fn unit(&self, name: &str) -> Result<BigRational, CheckError> {
        let v = self.num(name)?;
        if v.is_negative() || v >= BigRational::one() {
            return Err(unreadable(format!(
                "hyperparameters.{name} must be in [0, 1)"
            )));
        }
        Ok(v)
    }
    pub(super) fn positive(&self, name: &str) -> Result<BigRational, CheckError> {
        let v = self.num(name)?;
        if !v.is_positive() {
            return Err(unreadable(format!("hyperparameters.{name} must be > 0")));
        }
        Ok(v)
    }
    pub(super) fn non_negative(&self, name: &str) -> Result<BigRational, CheckError> {
        let v = self.num(name)?;
        if v.is_negative() {
            return Err(unreadable(format!("hyperparameters.{name} must be >= 0")));
        }
        Ok(v)
    }
}

/// The state of one coordinate.
pub(crate) struct Coord<'a> {
    pub(crate) p: &'a BigRational,
    pub(crate) t: u64,
    pub(crate) buffers: &'a dyn Fn(&str) -> BigRational,
    pub(crate) has: &'a dyn Fn(&str) -> bool,
    pub(crate) mu_product: BigRational,
}
