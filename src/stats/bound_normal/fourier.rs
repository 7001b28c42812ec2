//! `P(Y <= 0)` for `Y = v + sigma Z_0 + c U + sum_j beta_j |Z_j| + gamma V` by the
//! midpoint Gil-Pelaez sum with its two proven error terms (derivation: the docs of
//! [`super`]).

use super::iv::{Iv, dawson, erf, exp, pi, sin_cos, sinc};

/// The law of `Y`: every part independent, the `Z` standard normal, `U ~ U(-1, 1)`,
/// `V ~ Beta(2, 1)`.
#[derive(Debug, Clone)]
pub struct SumLaw {
    /// The constant `v`.
    pub shift: Iv,
    /// `sigma > 0` of a normal part.
    pub gauss: Option<Iv>,
    /// `c > 0` of a uniform part `c U`.
    pub unif: Option<Iv>,
    /// `(beta_j, count)`: `count` independent terms `beta_j |Z|`, `beta_j != 0`.
    pub halves: Vec<(Iv, usize)>,
    /// `gamma != 0` of a `gamma V` part.
    pub beta_v: Option<Iv>,
}

/// A complex number as two intervals.
#[derive(Debug, Clone, Copy)]
struct Cx {
    re: Iv,
    im: Iv,
}

impl Cx {
    fn mul(self, o: Cx) -> Cx {
        Cx {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
    /// `self^n` by repeated squaring (`log2 n` products instead of `n`; each product is
    /// an enclosure, so the result encloses the power).
    fn pow(self, mut n: usize) -> Cx {
        let mut acc = Cx {
            re: Iv::point(1.0),
            im: Iv::point(0.0),
        };
        let mut base = self;
        while n > 0 {
            if n & 1 == 1 {
                acc = acc.mul(base);
            }
            n >>= 1;
            if n > 0 {
                base = base.mul(base);
            }
        }
        acc
    }
    fn scale(self, r: Iv) -> Cx {
        Cx {
            re: self.re * r,
            im: self.im * r,
        }
    }
}

/// `E e^{i w |Z|} = e^{-w^2/2} + i (2/sqrt(pi)) F(w/sqrt(2))`.
fn psi(w: Iv) -> Cx {
    let two = Iv::point(2.0);
    Cx {
        re: exp(-(w.sqr() / two)),
        im: two / pi().sqrt() * dawson(w / two.sqrt()),
    }
}

/// `E e^{i w V}` for `V ~ Beta(2, 1)` (density `2x` on `[0, 1]`).
fn phi_beta(w: Iv) -> Cx {
    if w.mag() <= 1.0 {
        // sum_n 2 (i w)^n / (n! (n+2)); the terms past n = 25 add less than 1e-25
        let mut a = Iv::point(1.0); // w^n / n!
        let (mut re, mut im) = (Iv::point(0.0), Iv::point(0.0));
        for n in 0..=25u64 {
            if n > 0 {
                a = a * w / Iv::int(n);
            }
            let t = a * 2.0 / Iv::int(n + 2);
            match n % 4 {
                0 => re = re + t,
                1 => im = im + t,
                2 => re = re - t,
                _ => im = im - t,
            }
        }
        return Cx {
            re: re.pm(1e-25),
            im: im.pm(1e-25),
        };
    }
    // 2 (e^{iw}/(iw) + (e^{iw} - 1)/w^2)
    let (s, c) = sin_cos(w);
    let w2 = w.sqr();
    Cx {
        re: (s / w + (c - Iv::point(1.0)) / w2) * 2.0,
        im: (s / w2 - c / w) * 2.0,
    }
}

impl SumLaw {
    /// `E e^{i t Y}`.
    fn cf(&self, t: Iv) -> Cx {
        let mut z = if self.shift == Iv::point(0.0) {
            Cx {
                re: Iv::point(1.0),
                im: Iv::point(0.0),
            }
        } else {
            let (s, c) = sin_cos(t * self.shift);
            Cx { re: c, im: s }
        };
        let mut real = Iv::point(1.0);
        if let Some(sg) = self.gauss {
            real = real * exp(-((sg * t).sqr() / Iv::point(2.0)));
        }
        if let Some(cu) = self.unif {
            real = real * sinc(cu * t);
        }
        z = z.scale(real);
        for &(beta, count) in &self.halves {
            z = z.mul(psi(beta * t).pow(count));
        }
        if let Some(g) = self.beta_v {
            z = z.mul(phi_beta(g * t));
        }
        z
    }

    /// A bound on `(1/pi) sum_{n>N} |Im cf(t_n)| / (n - 1/2)` given `t_N`, if one applies.
    fn truncation(&self, t_n: f64, even_imag: bool, n_halves: usize, beta_min: f64) -> Option<f64> {
        let two = Iv::point(2.0);
        let t = Iv::point(t_n);
        if even_imag {
            // |Im prod (i D_j + R_j)| <= sum_j |R_j| once every |D_j| + |R_j| <= 1
            // (w_j >= 2: R_j <= e^{-2}, D_j <= 0.61), and R_j <= e^{-(beta_min t)^2/2}, which
            // is at most G(t_N) (t_N/t)^2 past t_N when beta_min t_N >= sqrt 2: the
            // remainder is at most n_halves G(t_N) / (2 pi)
            // (before that, the power law below applies, as |Im phi| <= |phi|)
            if beta_min * t_n >= 2.0 {
                let g = exp(-((Iv::point(beta_min) * t).sqr() / two));
                return Some((g * Iv::int(n_halves as u64) / (two * pi())).hi);
            }
        }
        // |psi(w)| <= (2 phi(0) + 4 phi(1)/|w|)/|w|, |sinc(ct)| <= 1/(ct),
        // |phi_V(w)| <= (2 + 4/|w|)/|w|: each is c_j/t for t >= t_N with c_j fixed at t_N,
        // and each is also at most 1. A factor enters the power law only once
        // c_j < t_N (then c_j/t < 1 past t_N); the others are bounded by 1, so parts of
        // very different scales (a box [0.001, 1]) do not hold the bound back until the
        // smallest has decayed. `e` is the exponent of the factors that entered.
        let mut k = Iv::point(1.0);
        let mut e = 0usize;
        let mut enter = |c: Iv, count: usize| {
            if c.hi < t_n {
                k = k * c.powi(count as u32);
                e += count;
            }
        };
        // (a factor whose `w = beta t` underflows towards 0 has not decayed: it stays out)
        for &(beta, count) in &self.halves {
            let b = beta.abs();
            if (b * t).lo > 0.0 {
                enter(
                    (Iv::point(0.797885) + Iv::point(0.967883) / (b * t)) / b,
                    count,
                );
            }
        }
        if let Some(c) = self.unif.filter(|c| c.abs().lo > 0.0) {
            enter(c.abs().recip(), 1);
        }
        if let Some(g) = self.beta_v {
            let g = g.abs();
            if (g * t).lo > 0.0 {
                enter((two + Iv::point(4.0) / (g * t)) / g, 1);
            }
        }
        let te = t.powi(e as u32);
        if !(te.lo > 0.0 && te.hi.is_finite()) {
            // t_N^e out of the doubles' range (a law of huge scale, tiny t_N): no bound yet
            return None;
        }
        let mut env = k / te;
        let mut e_eff = e;
        if let Some(s) = self.gauss {
            let st = s * t;
            env = env * exp(-(st.sqr() / two));
            if st.lo * st.lo >= 2.0 {
                e_eff += 2;
            }
        }
        (e_eff > 0).then(|| (env / (pi() * Iv::int(e_eff as u64))).hi)
    }

    /// The smallest and largest magnitudes among the nonzero parameters of the law (the
    /// smallest from the end nearer 0).
    fn part_range(&self) -> (f64, f64) {
        let parts: Vec<Iv> = [self.shift]
            .into_iter()
            .chain(self.gauss)
            .chain(self.unif)
            .chain(self.halves.iter().map(|&(b, _)| b))
            .chain(self.beta_v)
            .filter(|p| *p != Iv::point(0.0))
            .collect();
        let large = parts.iter().map(Iv::mag).fold(0.0, f64::max);
        let small = parts
            .iter()
            .map(|p| {
                if p.lo > 0.0 {
                    p.lo
                } else if p.hi < 0.0 {
                    -p.hi
                } else {
                    0.0
                }
            })
            .fold(f64::INFINITY, f64::min);
        (if small.is_finite() { small } else { 0.0 }, large)
    }

    /// The law of `f Y` for a power of two `f` (every part scaled; exact unless a part
    /// leaves the normal range, and outward-rounded then).
    fn scaled(&self, f: f64) -> SumLaw {
        SumLaw {
            shift: self.shift * f,
            gauss: self.gauss.map(|g| g * f),
            unif: self.unif.map(|c| c * f),
            halves: self.halves.iter().map(|&(b, c)| (b * f, c)).collect(),
            beta_v: self.beta_v.map(|g| g * f),
        }
    }

    /// Whether the sum needs no Fourier inversion: its power-law decay exponent `e`
    /// (one per `|Z|` term, uniform and Beta part) and normal part.
    fn decay(&self) -> (usize, bool) {
        let e = self.halves.iter().map(|(_, c)| c).sum::<usize>()
            + usize::from(self.unif.is_some())
            + usize::from(self.beta_v.is_some());
        (e, self.gauss.is_some())
    }

    /// `P(Y <= 0)`, enclosed, for a law with `e >= 2` or a normal part (`Y` has a
    /// density). `eps` is the target of each of the two error terms. At most
    /// `max_terms` terms of the series are summed; past that the answer is the enclosure
    /// reached so far (`[0, 1]` if no truncation bound applied yet). Returns the
    /// enclosure and the number of terms summed.
    pub fn p_nonpositive(&self, eps: f64, max_terms: u64) -> (Iv, u64) {
        // P(Y <= 0) = P(2^k Y <= 0): scale by a power of two (exact) so the largest part
        // is of magnitude in [1, 2), so the step h and the constants below are sized
        // for Y and not for its units (with `normal:1e-12` the period was 1e6 times too
        // short and the sum ran for minutes)
        // (the smallest nonzero part must stay far above the subnormals, or a division by
        // it would meet an interval containing 0: the scale is limited by it, and when
        // the parts span more than the doubles allow, the law is left as it is)
        let (small, large) = self.part_range();
        if large > 0.0 && large.is_finite() && small > 0.0 {
            let k = (large.log2().floor() as i32)
                .min(small.log2().floor() as i32 + 900)
                .max(large.log2().ceil() as i32 - 1000);
            if k != 0
                && small.log2() - f64::from(k) >= -900.0
                && large.log2() - f64::from(k) <= 1000.0
            {
                return self.scaled(2f64.powi(-k)).p_nonpositive(eps, max_terms);
            }
        }
        let (e, gaussian) = self.decay();
        assert!(e >= 2 || gaussian, "closed forms handle the other laws");
        let two = Iv::point(2.0);
        // aliasing: |Y| <= f0 + sigma |Z_0| + beta_max S_n with S_n a sum of n |Z|
        let f0 = self.shift.abs()
            + self.unif.unwrap_or(Iv::point(0.0))
            + self.beta_v.map_or(Iv::point(0.0), |g| g.abs());
        let n: usize = self.halves.iter().map(|(_, c)| c).sum();
        let beta_max = self.halves.iter().map(|(b, _)| b.mag()).fold(0.0, f64::max);
        let ln = |x: f64| x.ln();
        let alias = 1e-15f64;
        let t_g = self
            .gauss
            .map_or(0.0, |s| s.hi * (2.0 * ln(2.0 / alias)).sqrt());
        let t_h = if n > 0 {
            beta_max * (2.0 * n as f64 * ((n + 1) as f64 * ln(2.0) - ln(alias))).sqrt()
        } else {
            0.0
        };
        let t_total = (f0.hi + t_g + t_h) * 1.001 + 1e-6;
        let h = 2.0 * std::f64::consts::PI / t_total;
        let t_cert = (two * pi() / Iv::point(h)).lo;
        let mut alias_bound = 0.0;
        if let Some(s) = self.gauss {
            // P(sigma |Z_0| >= t_g) <= e^{-t_g^2 / (2 sigma^2)}
            alias_bound += exp(-(Iv::point(t_g) / s).sqr() / two).hi;
        }
        let rest = (Iv::point(t_cert) - f0 - Iv::point(t_g)).lo;
        assert!(rest > 0.0, "aliasing period too short");
        if n > 0 {
            // P(S_n >= r) <= 2^n e^{-r^2/(2n)}
            let r = Iv::point(rest) / Iv::point(beta_max);
            alias_bound += (exp(-(r.sqr() / Iv::int(2 * n as u64))) * 2f64.powi(n as i32)).hi;
        }
        // truncation (module docs of `super`): for t >= t_N, |Im cf(t)| <= env(t_N)-type
        // bounds; with no shift and no Beta part and an even number of |Z| terms, the
        // leading parts i D_j of the psi factors multiply to a real number, so only the
        // Gaussian parts e^{-w^2/2} remain
        let n_halves: usize = self.halves.iter().map(|(_, c)| c).sum();
        let even_imag = self.shift == Iv::point(0.0)
            && self.beta_v.is_none()
            && n_halves > 0
            && n_halves.is_multiple_of(2);
        let beta_min = self
            .halves
            .iter()
            .map(|(b, _)| b.abs().lo)
            .fold(f64::INFINITY, f64::min);
        let mut sum = Iv::point(0.0);
        let mut trunc = f64::INFINITY;
        let mut nn: u64 = 0;
        // blocks of 64 terms are summed apart, so the rounding of the running sum (of
        // order 1) is paid once per block
        let mut block = Iv::point(0.0);
        while nn < max_terms {
            nn += 1;
            let m = Iv::point(nn as f64 - 0.5);
            let t = m * h;
            block = block + self.cf(t).im / m;
            if nn.is_multiple_of(64) {
                sum = sum + block;
                block = Iv::point(0.0);
                if let Some(bound) = self.truncation(t.lo, even_imag, n_halves, beta_min) {
                    trunc = bound;
                    if trunc <= eps {
                        break;
                    }
                }
            }
        }
        let s = Iv::point(0.5) - (sum + block) / pi();
        if !trunc.is_finite() {
            return (Iv::new(0.0, 1.0), nn);
        }
        (s.pm(up(trunc + alias_bound)).clamp01(), nn)
    }
}

fn up(x: f64) -> f64 {
    x.next_up()
}

/// `P(v + beta |Z| <= 0)` for `beta != 0`: `erf(-v/(beta sqrt 2))` if `beta > 0` and
/// `v < 0`, `erfc(v/(|beta| sqrt 2))` if `beta < 0` and `v > 0`, else 0 or 1.
pub fn one_half_normal(v: Iv, beta: Iv, beta_positive: bool, v_sign: i8) -> Iv {
    let x = v.abs() / (beta.abs() * Iv::point(2.0).sqrt());
    match (beta_positive, v_sign) {
        (true, s) if s >= 0 => Iv::point(0.0),
        (true, _) => erf(x),
        (false, s) if s <= 0 => Iv::point(1.0),
        (false, _) => (Iv::point(1.0) - erf(x)).clamp01(),
    }
}
