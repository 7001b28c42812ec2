//! Unit tests of the scalar layer's text and conversions.

use super::*;
use num_bigint::BigInt;

#[test]
fn parse_rational_forms() {
    let q = |n: i64, d: i64| BigRational::new(n.into(), d.into());
    assert_eq!(parse_rational("-3").unwrap(), q(-3, 1));
    assert_eq!(parse_rational("13/48").unwrap(), q(13, 48));
    assert_eq!(parse_rational("2/-4").unwrap(), q(-1, 2));
    assert_eq!(parse_rational("0.1").unwrap(), q(1, 10));
    assert_eq!(parse_rational("-2.5e-3").unwrap(), q(-1, 400));
    assert_eq!(parse_rational("1E2").unwrap(), q(100, 1));
    assert_eq!(parse_rational(".5").unwrap(), q(1, 2));
    assert_eq!(parse_rational("+7.").unwrap(), q(7, 1));
    for bad in [
        "", "nan", "inf", "1/", "/2", "1.2.3", "e5", "1e", "--1", "0x10", "1/2/3",
    ] {
        assert!(
            matches!(parse_rational(bad), Err(ScalarError::Unparsable { .. })),
            "{bad}"
        );
    }
    assert!(matches!(
        parse_rational("1/0"),
        Err(ScalarError::ZeroDenominator { .. })
    ));
}

#[test]
fn parse_rational_limits_refuse_huge_inputs_promptly() {
    let start = std::time::Instant::now();
    let huge_digits = format!("0.{}", "7".repeat(100_000));
    for text in [
        "1e-9223372036854775808",
        "1e9223372036854775807",
        "1e-100000",
        "1e99999999999999999999999999999999999999",
        "-1.5e-4001",
        huge_digits.as_str(),
    ] {
        assert!(
            matches!(parse_rational(text), Err(ScalarError::TooLarge { .. })),
            "{}",
            &text[..text.len().min(30)]
        );
    }
    let long_ratio = format!("{}/3", "1".repeat(4_001));
    assert!(matches!(
        parse_rational(&long_ratio),
        Err(ScalarError::TooLarge { .. })
    ));
    assert!(start.elapsed().as_secs_f64() < 1.0, "{:?}", start.elapsed());
    // At the limits the values are exact.
    let q = |n: i64, d: i64| BigRational::new(n.into(), d.into());
    assert_eq!(parse_rational("0e-9223372036854775808").unwrap(), q(0, 1));
    let ratio = format!("{}/{}", "7".repeat(1999), "3".repeat(2000));
    let start = std::time::Instant::now();
    assert!(parse_rational(&ratio).is_ok());
    assert!(start.elapsed().as_secs_f64() < 0.5, "{:?}", start.elapsed());
    assert_eq!(
        parse_rational("1e-4000").unwrap(),
        BigRational::new(1.into(), num_traits::pow::pow(BigInt::from(10), 4000))
    );
    assert_eq!(
        parse_rational("25e-4000").unwrap(),
        parse_rational("2.5e-3999").unwrap()
    );
    assert!(matches!(
        parse_rational("1e-x"),
        Err(ScalarError::Unparsable { .. })
    ));
}

#[test]
fn rational_strings_are_lowest_terms() {
    assert_eq!(
        rational_string(&BigRational::new(26.into(), 96.into())),
        "13/48"
    );
    assert_eq!(
        rational_string(&BigRational::new((-6).into(), 2.into())),
        "-3"
    );
    assert_eq!(rational_string(&BigRational::zero()), "0");
}

#[test]
fn fast_f64_images_and_strings_match_the_general_ones() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut values = vec![
        0.0,
        -0.0,
        1.0,
        -0.5,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::MAX,
        3.0e300,
        -7.25e-310,
    ];
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = f64::from_bits(x);
        if v.is_finite() {
            values.push(v);
            values.push(v as f32 as f64);
            values.retain(|v| v.is_finite());
        }
    }
    for v in values {
        let q = rational_from_f64(v).unwrap();
        let reference = BigRational::from_float(v).unwrap();
        assert_eq!(q, reference, "{v:e}");
        assert_eq!(
            (q.numer(), q.denom()),
            (reference.numer(), reference.denom())
        );
        let text = if reference.denom().is_one() {
            reference.numer().to_string()
        } else {
            format!("{}/{}", reference.numer(), reference.denom())
        };
        assert_eq!(rational_string(&q), text);
    }
}

#[test]
fn f64_images_are_exact_and_reject_non_finite() {
    assert_eq!(
        rational_from_f64(0.1).unwrap(),
        BigRational::new(3602879701896397i64.into(), 36028797018963968i64.into())
    );
    assert!(matches!(
        rational_from_f64(f64::NAN),
        Err(ScalarError::NonFinite { .. })
    ));
    assert!(matches!(
        rational_from_f64(f64::INFINITY),
        Err(ScalarError::NonFinite { .. })
    ));
}
