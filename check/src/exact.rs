//! The checker's exact forward pass and risks (plain `BigRational`, metered).
//!
//! Layout (MECHANISM.md): for `k = 1..L`, `W_k` row-major (`l_k x l_{k-1}`), then `B_k`.
//! Realization: `z_1 = W_1 x + B_1`, `a_k = ReLU(z_k)`, `z_{k+1} = W_{k+1} a_k + B_{k+1}`,
//! output `z_L`. Products with a zero factor are skipped (sparse witnesses cost little).

use crate::CheckError;
use crate::limits::{Meter, bits};
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// A network: widths and parameters.
#[derive(Debug, Clone, Copy)]
pub struct Net<'a> {
    /// `l_0..l_L`.
    pub widths: &'a [usize],
    /// The parameters in the layout above.
    pub theta: &'a [BigRational],
}

impl<'a> Net<'a> {
    /// Offset of `W_l` in `theta` (`l >= 1`).
    pub fn offset(&self, l: usize) -> usize {
        self.widths[..l].windows(2).map(|w| w[1] * (w[0] + 1)).sum()
    }

    /// `W_l` (row-major) and `B_l`.
    pub fn layer(&self, l: usize) -> (&'a [BigRational], &'a [BigRational]) {
        let (rows, cols) = (self.widths[l], self.widths[l - 1]);
        let off = self.offset(l);
        let theta: &'a [BigRational] = self.theta;
        (
            &theta[off..off + rows * cols],
            &theta[off + rows * cols..off + rows * (cols + 1)],
        )
    }

    /// Number of layers `L`.
    pub fn depth(&self) -> usize {
        self.widths.len() - 1
    }
}

/// `max(v, 0)`.
pub fn relu(v: &BigRational) -> BigRational {
    if v.is_positive() {
        v.clone()
    } else {
        BigRational::zero()
    }
}

/// The non-zero weights of each layer, row by row (`rows[l - 1][j]` lists `(i, W_l[j, i])`).
#[derive(Debug, Clone)]
pub struct Sparse<'a> {
    net: Net<'a>,
    rows: Vec<Vec<Vec<(usize, &'a BigRational)>>>,
}

impl<'a> Sparse<'a> {
    /// The non-zero pattern of layers `1..=upto`.
    pub fn new(net: Net<'a>, upto: usize) -> Self {
        let rows = (1..=upto)
            .map(|l| {
                let (w, _) = net.layer(l);
                let cols = net.widths[l - 1];
                (0..net.widths[l])
                    .map(|j| {
                        w[j * cols..(j + 1) * cols]
                            .iter()
                            .enumerate()
                            .filter(|(_, v)| !v.is_zero())
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Self { net, rows }
    }

    /// Inputs that some non-zero first-layer weight reads.
    pub fn inputs_read(&self) -> Vec<bool> {
        let mut read = vec![false; self.net.widths[0]];
        for row in self.rows.first().into_iter().flatten() {
            for (i, _) in row {
                read[*i] = true;
            }
        }
        read
    }

    /// `b + W a` of layer `l` (`l <= upto`), metered.
    ///
    /// # Errors
    /// [`CheckError::TooLarge`] once the meter's budget is spent.
    pub fn affine(
        &self,
        l: usize,
        a: &[BigRational],
        meter: &mut Meter,
    ) -> Result<Vec<BigRational>, CheckError> {
        let (_, b) = self.net.layer(l);
        let mut z = Vec::with_capacity(b.len());
        for (bias, row) in b.iter().zip(&self.rows[l - 1]) {
            let mut acc = bias.clone();
            for (i, w) in row {
                let ai = &a[*i];
                if ai.is_zero() {
                    continue;
                }
                let (bw, ba) = (bits(w), bits(ai));
                meter.op(bw, ba)?;
                let p = *w * ai;
                meter.op(bits(&acc), bw + ba)?;
                acc += p;
            }
            z.push(acc);
        }
        Ok(z)
    }

    /// Pre-activations `z_1..z_upto` at the input `x`.
    ///
    /// # Errors
    /// As [`Sparse::affine`].
    pub fn forward(
        &self,
        x: &[BigRational],
        meter: &mut Meter,
    ) -> Result<Vec<Vec<BigRational>>, CheckError> {
        let mut pre = Vec::with_capacity(self.rows.len());
        let mut a: Vec<BigRational> = x.to_vec();
        for l in 1..=self.rows.len() {
            let z = self.affine(l, &a, meter)?;
            a = z.iter().map(relu).collect();
            pre.push(z);
        }
        Ok(pre)
    }
}

/// Pre-activations `z_1..z_upto` at the input `x` (`upto <= L`).
///
/// # Errors
/// As [`Sparse::affine`].
pub fn forward(
    net: Net<'_>,
    x: &[BigRational],
    upto: usize,
    meter: &mut Meter,
) -> Result<Vec<Vec<BigRational>>, CheckError> {
    Sparse::new(net, upto).forward(x, meter)
}

/// The output when layer `k`'s activations are all zero: `z_{k+1} = B_{k+1}`, then the
/// later layers (fact 1: the constant of a network whose layer `k` is dead).
///
/// # Errors
/// As [`Sparse::affine`].
pub fn output_after_dead(
    net: Net<'_>,
    k: usize,
    meter: &mut Meter,
) -> Result<Vec<BigRational>, CheckError> {
    let sparse = Sparse::new(net, net.depth());
    let zeros = vec![BigRational::zero(); net.widths[k]];
    let mut z = sparse.affine(k + 1, &zeros, meter)?;
    for l in k + 2..=net.depth() {
        let a: Vec<BigRational> = z.iter().map(relu).collect();
        z = sparse.affine(l, &a, meter)?;
    }
    Ok(z)
}

/// `|out - y|^2`, metered.
///
/// # Errors
/// As [`Sparse::affine`].
pub fn squared_error(
    out: &[BigRational],
    y: &[BigRational],
    meter: &mut Meter,
) -> Result<BigRational, CheckError> {
    let mut s = BigRational::zero();
    for (o, t) in out.iter().zip(y) {
        let d = o - t;
        let bd = bits(&d);
        meter.op(bd, bd)?;
        meter.op(bits(&s), 2 * bd)?;
        s += &d * &d;
    }
    Ok(s)
}

/// `sum / m`.
pub fn mean(sum: BigRational, m: usize) -> BigRational {
    sum / BigRational::from_integer((m as u64).into())
}
