use super::*;
use crate::scalar::q;

#[test]
fn decimals_and_their_exactness() {
    for (text, value, exact) in [
        ("0", 0.0, true),
        ("-0.000", 0.0, true),
        ("255", 255.0, true),
        ("0.5", 0.5, true),
        ("-0.375", -0.375, true),
        ("1e3", 1000.0, true),
        ("2.5E-1", 0.25, true),
        ("0.1", 0.1, false),
        ("9007199254740993", 9007199254740992.0, false),
        ("1e-400", 0.0, false),
        ("+.5", 0.5, true),
        ("12345678901234567890123", 1.2345678901234568e22, false),
    ] {
        let (v, ex) = cell_value(text).unwrap();
        assert_eq!((v, ex), (value, exact), "{text}");
    }
    assert_eq!(cell_value("1/4").unwrap(), (0.25, true));
    assert_eq!(cell_value("1/3").unwrap(), (1.0 / 3.0, false));
    assert!(cell_value("nan").is_err());
    assert!(cell_value("1e").is_err());
    assert!(cell_value("1e-100001").is_err());
    assert!(cell_value(".").is_err());
}

#[test]
fn fast_line_agrees_with_the_general_path() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut cells_text = Vec::new();
    for _ in 0..20_000 {
        let v: f64 = rng.gen_range(-1.0..1.0) * 10f64.powi(rng.gen_range(-30..30));
        let text = match rng.gen_range(0..6) {
            0 => format!("{v}"),
            1 => format!("{v:e}"),
            2 => format!("{:.9}", v),
            3 => format!("{}", rng.gen_range(-300i64..300)),
            4 => format!("{:.3}E{}", v, rng.gen_range(-400..400)),
            _ => format!("{}", (v as f32)),
        };
        cells_text.push(text);
    }
    for chunk in cells_text.chunks(7) {
        let line = chunk.join(" , ");
        let mut out = Vec::new();
        let exact = fast_line(line.as_bytes(), chunk.len(), &mut out, None).expect(&line);
        let mut all = true;
        for (c, v) in chunk.iter().zip(&out) {
            let (w, ex) = decimal(c).unwrap();
            assert_eq!(v.to_bits(), w.to_bits(), "{c}");
            all &= ex;
            // exactness is never claimed wrongly
            if ex {
                assert_eq!(
                    rational_from_f64(w).unwrap(),
                    parse_rational(c).unwrap(),
                    "{c}"
                );
            }
        }
        assert_eq!(exact, all, "{line}");
    }
    for bad in [
        "1,2,3",
        "1,x",
        "1/2,3",
        "\"1\",2",
        "1e,2",
        "1e-100001,2",
        "1 2,3",
    ] {
        assert!(
            fast_line(bad.as_bytes(), 2, &mut Vec::new(), None).is_none(),
            "{bad}"
        );
    }
}

#[test]
fn reads_like_the_exact_reader() {
    let dir = std::env::temp_dir().join(format!("deadrelu-csvf64-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.csv");
    std::fs::write(&path, "x,y\r\n0.5,1\n\n0.1 ,\"2\"\n1/3,-4\n").unwrap();
    let d = CsvF64::read(&path, 1, 1).unwrap();
    assert_eq!(d.x.as_slice().unwrap(), &[0.5, 0.1, 1.0 / 3.0]);
    assert_eq!(d.y.as_slice().unwrap(), &[1.0, 2.0, -4.0]);
    assert_eq!(d.row_exact, vec![true, false, false]);
    assert_eq!(d.rows.exact_row(1).unwrap(), vec![q(1, 10), q(2, 1)]);
    assert_eq!(d.rows.exact_row(2).unwrap(), vec![q(1, 3), q(-4, 1)]);
    let exact = crate::data::read_csv(&path, 1, 1).unwrap();
    assert_eq!(exact.len(), 3);
    // as integers at 10^-K: 0.5,1 -> K=1 (5, 10); 0.1,"2" (quoted: general path) and
    // 1/3 (a ratio) do not fit
    let ints = CsvF64::read_with(&path, 1, 1, true).unwrap().ints.unwrap();
    assert_eq!(ints.k, vec![1, u8::MAX, u8::MAX]);
    assert_eq!(&ints.ints[..2], &[5, 10]);
    std::fs::write(&path, "-1.25e-3,120\n7,0.000\n1e30,1\n").unwrap();
    let ints = CsvF64::read_with(&path, 1, 1, true).unwrap().ints.unwrap();
    assert_eq!(ints.k, vec![5, 0, u8::MAX]);
    assert_eq!(&ints.ints[..4], &[-125, 12_000_000, 7, 0]);
    std::fs::write(&path, "1,2\n3,x\n").unwrap();
    let e = CsvF64::read(&path, 1, 1).unwrap_err().to_string();
    assert!(e.contains(":2:2:"), "{e}");
    std::fs::write(&path, "1,2\n3\n").unwrap();
    let e = CsvF64::read(&path, 1, 1).unwrap_err().to_string();
    assert!(e.contains(":2:0: 1 columns, expected 2"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
