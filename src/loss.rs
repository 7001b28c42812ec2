//! The loss: the squared error `|a - b|^2` of one output, shared by the risk of a network
//! ([`crate::net::Network::risk`]) and the risk `V` of the best constant
//! ([`crate::data::Dataset::best_constant`]). It depends only on [`crate::scalar`], so
//! `data` and `net` both use it without depending on each other in a cycle.

use crate::scalar::Scalar;

/// `|a - b|^2`, the squared Euclidean distance.
pub fn squared_error<S: Scalar>(a: &[S], b: &[S]) -> S {
    a.iter()
        .zip(b)
        .fold(S::zero(), |acc, (p, q)| acc.add_ref(&p.sub_ref(q).square()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::{BigRational, q};

    #[test]
    fn squared_error_is_the_exact_squared_distance() {
        let a = [q(1, 2), q(-1, 3)];
        let b = [q(0, 1), q(2, 3)];
        // (1/2)^2 + (-1)^2 = 5/4
        assert_eq!(squared_error::<BigRational>(&a, &b), q(5, 4));
        assert_eq!(squared_error::<f64>(&[3.0], &[1.0]), 4.0);
    }
}
