//! Tests of the data sets: exact grids, the best constant, spec errors, seeded draws.

use super::*;

use crate::scalar::q;

#[test]
fn grid_is_exact() {
    let spec: DataSpec = "grid:-1,1:64".parse().unwrap();
    let d = spec.build(1, 1, &Target::Abs, 0).unwrap();
    assert_eq!(d.len(), 64);
    assert_eq!(d.x(0)[0], q(-1, 1));
    assert_eq!(d.x(1)[0], q(-61, 63));
    assert_eq!(d.x(63)[0], q(1, 1));
    assert_eq!(d.y(1)[0], q(61, 63));
    let d2 = "grid:0,1:3"
        .parse::<DataSpec>()
        .unwrap()
        .build(2, 2, &Target::Square, 0)
        .unwrap();
    assert_eq!(d2.len(), 9);
    assert_eq!(d2.x(5), &[q(1, 2), q(1, 1)]);
    assert_eq!(d2.y(5), &[q(5, 4), q(5, 4)]);
}

#[test]
fn best_constant_of_abs_grid() {
    let d = "grid:-1,1:3"
        .parse::<DataSpec>()
        .unwrap()
        .build(1, 1, &Target::Abs, 0)
        .unwrap();
    // y = 1, 0, 1: mean 2/3, V = ((1/3)^2 + (2/3)^2 + (1/3)^2)/3 = 2/9
    let (v, mean) = d.best_constant();
    assert_eq!(mean, vec![q(2, 3)]);
    assert_eq!(v, q(2, 9));
}

#[test]
fn specs_reject_nonsense() {
    for bad in [
        "grid:1,0:3",
        "grid:0,1:0",
        "grid:0,1",
        "foo:0,1:3",
        "uniform:a,1:3",
        "grid",
    ] {
        assert!(
            matches!(bad.parse::<DataSpec>(), Err(DataError::Spec { .. })),
            "{bad}"
        );
    }
    assert!(matches!(
        "cos".parse::<Target>(),
        Err(DataError::Spec { .. })
    ));
    // Ranges whose width overflows f64, and grids whose size overflows, are errors.
    let spec: DataSpec = "uniform:-1e308,1e308:4".parse().unwrap();
    assert!(matches!(
        spec.build(1, 1, &Target::Abs, 0),
        Err(DataError::Spec { .. })
    ));
    let spec: DataSpec = "grid:0,1:3".parse().unwrap();
    for inputs in [64, usize::MAX] {
        assert!(matches!(
            spec.build(inputs, 1, &Target::Abs, 0),
            Err(DataError::Spec { .. })
        ));
    }
    assert_eq!(
        "const:1/3".parse::<Target>().unwrap(),
        Target::Const(q(1, 3))
    );
}

#[test]
fn uniform_data_is_seeded() {
    let spec: DataSpec = "uniform:-1,1:5".parse().unwrap();
    let a = spec.build(2, 1, &Target::Abs, 7).unwrap();
    let b = spec.build(2, 1, &Target::Abs, 7).unwrap();
    let c = spec.build(2, 1, &Target::Abs, 8).unwrap();
    assert_eq!(a.x_matrix(), b.x_matrix());
    assert_ne!(a.x_matrix(), c.x_matrix());
    assert!(a.x_matrix().iter().all(|v| v >= &q(-1, 1) && v < &q(1, 1)));
}

/// Errors name the line of the file, after blank lines and CRLF line ends as well (the
/// csv crate's own line numbers are off there), the same line as the `f64` reader.
#[test]
fn csv_errors_name_the_right_line() {
    let dir = std::env::temp_dir().join(format!("deadrelu-csvlines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.csv");
    for (text, line) in [
        ("\n\r\nx,y\r\n1,2\n3,x\n", 5),
        ("\n\n1,2\n3,x\n", 4),
        ("1,2\r\n3,4\r\n5,x\n", 3),
        ("1,2\n\n3,x\n", 3),
        ("1,2\r\n\n3,x\n", 3),
        ("1,2\n\r\n3,x\n", 3),
        ("1,2\r\n\r\n\r\n3,4\r\n5\r\n", 5),
    ] {
        std::fs::write(&path, text).unwrap();
        let e = super::read_csv(&path, 1, 1).unwrap_err().to_string();
        let f = crate::io::csv_f64::CsvF64::read(&path, 1, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!(".csv:{line}:")), "{text:?}: {e}");
        assert_eq!(e, f, "{text:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
