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

#[test]
fn fast_line_decimals_are_the_exact_cell_values() {
    use num_bigint::BigInt;
    use rand::{Rng, SeedableRng};
    let check = |line: &str, n: usize| {
        let (mut out, mut dec) = (Vec::new(), Vec::new());
        fast_line(line.as_bytes(), n, &mut out, Some(&mut dec)).expect(line);
        for (c, d) in line.split(',').zip(&dec) {
            let exact = parse_rational(c.trim()).unwrap();
            let (v, _) = decimal(c.trim()).unwrap();
            assert_eq!(out[dec.iter().position(|x| std::ptr::eq(x, d)).unwrap()], v);
            if d.sig == u64::MAX {
                continue; // digits dropped: only the f64 value is kept
            }
            let ten = BigRational::from_integer(BigInt::from(10));
            let mut q = BigRational::from_integer(BigInt::from(d.sig));
            for _ in 0..d.scale.unsigned_abs() {
                q = if d.scale > 0 { &q * &ten } else { &q / &ten };
            }
            if d.neg {
                q = -q;
            }
            assert_eq!(q, exact, "{c}");
        }
    };
    for (line, sig, scale, dropped) in [
        ("0.000000000000000000000123", 123, -24, false),
        ("12345678.12345678", 1_234_567_812_345_678, -8, false),
        ("1234567890123456789012", 1_234_567_890_123_456_789, 3, true),
        (
            "10000000000000000000000",
            1_000_000_000_000_000_000,
            4,
            false,
        ),
        ("-0.12345678", 12_345_678, -8, false),
        (
            "0.1234567890123456789",
            1_234_567_890_123_456_789,
            -19,
            false,
        ),
        ("123.45678901e-3", 12_345_678_901, -11, false),
    ] {
        let mut dec = Vec::new();
        fast_line(line.as_bytes(), 1, &mut Vec::new(), Some(&mut dec)).expect(line);
        assert_eq!(dec[0].sig, if dropped { u64::MAX } else { sig }, "{line}");
        if !dropped {
            assert_eq!(dec[0].scale, scale, "{line}");
            check(line, 1);
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for _ in 0..3_000 {
        let cells: Vec<String> = (0..5)
            .map(|_| {
                let int: String = (0..rng.gen_range(0..12))
                    .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                    .collect();
                let frac: String = (0..rng.gen_range(0..25))
                    .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                    .collect();
                let sign = ["", "-", "+"][rng.gen_range(0..3)];
                let int0 = if int.is_empty() { "0" } else { &int };
                let int = if frac.is_empty() { int0 } else { &int };
                match rng.gen_range(0..3) {
                    0 => format!("{sign}{int0}"),
                    1 => format!("{sign}{int}.{frac}"),
                    _ => format!("{sign}{int}.{frac}e{}", rng.gen_range(-30..30)),
                }
            })
            .collect();
        check(&cells.join(","), 5);
    }
}

/// A file of several chunks and many line blocks (long lines, CRLF, blank lines, a
/// header after blank lines, quoted cells and ratios far from the start): the same values
/// as the exact reader, rows re-read exactly at the right offsets, integers as the exact
/// values, and errors at their exact line in a later chunk.
#[test]
fn reads_many_chunks_like_the_exact_reader() {
    use rand::{Rng, SeedableRng};
    let dir = std::env::temp_dir().join(format!("deadrelu-csvf64-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.csv");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let (inputs, outputs) = (40, 2);
    let mut text = String::from("\n\r\nx,y\r\n");
    let mut line = 4u64;
    let mut special = Vec::new(); // (row, line) of rows off the fast path
    let rows = (CHUNK_BYTES * 2 + CHUNK_BYTES / 3) / 500;
    for m in 0..rows {
        let cells: Vec<String> = (0..inputs + outputs)
            .map(|_| format!("{:.9}", rng.gen_range(-1.0..1.0f64)))
            .collect();
        let mut row = cells.join(",");
        if m % 997 == 5 {
            row = format!("1/3,\"2\",{}", cells[2..].join(","));
            special.push((m, line));
        }
        text.push_str(&row);
        text.push_str(if m % 2 == 0 { "\n" } else { "\r\n" });
        line += 1;
        if m % 1000 == 7 {
            text.push('\n');
            line += 1;
        }
    }
    assert!(text.len() > 2 * CHUNK_BYTES, "{}", text.len());
    std::fs::write(&path, &text).unwrap();
    let d = CsvF64::read_with(&path, inputs, outputs, true).unwrap();
    let exact = crate::data::read_csv(&path, inputs, outputs).unwrap();
    assert_eq!(d.x.nrows(), rows);
    assert_eq!(exact.len(), rows);
    let ints = d.ints.as_ref().unwrap();
    for m in (0..rows).step_by(97).chain(special.iter().map(|s| s.0)) {
        let want: Vec<BigRational> = exact.x(m).iter().chain(exact.y(m)).cloned().collect();
        assert_eq!(d.rows.exact_row(m).unwrap(), want, "row {m}");
        for (v, q) in d.x.row(m).iter().chain(d.y.row(m)).zip(&want) {
            assert_eq!(*v, num_traits::ToPrimitive::to_f64(q).unwrap(), "row {m}");
        }
        let k = ints.k[m];
        if special.iter().any(|s| s.0 == m) {
            assert_eq!(k, u8::MAX);
            assert!(!d.row_exact[m]);
            continue;
        }
        assert_eq!(k, 9, "row {m}");
        let w = inputs + outputs;
        for (i, q) in ints.ints[m * w..(m + 1) * w].iter().zip(&want) {
            let scaled = q * BigRational::from_integer(10.into()).pow(9);
            assert_eq!(BigRational::from_integer((*i).into()), scaled, "row {m}");
        }
    }
    assert_eq!(d.rows.lines[special[3].0], special[3].1);
    // an error far into the file is reported at its line, as by the exact reader
    let (m, l) = *special.last().unwrap();
    let mut lines: Vec<&str> = text.split('\n').collect();
    let row = format!("{},x", vec!["0.5"; inputs + outputs - 1].join(","));
    lines[usize::try_from(l).unwrap() - 1] = &row;
    std::fs::write(&path, lines.join("\n")).unwrap();
    let e = CsvF64::read(&path, inputs, outputs)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!(":{l}:{}:", inputs + outputs)),
        "row {m}: {e}"
    );
    let e2 = crate::data::read_csv(&path, inputs, outputs)
        .unwrap_err()
        .to_string();
    assert_eq!(e, e2, "row {m}");
    // a line that is not UTF-8, at its line
    let mut bytes = text.into_bytes();
    let at = bytes.len() - 10;
    bytes[at] = 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let e = CsvF64::read(&path, inputs, outputs)
        .unwrap_err()
        .to_string();
    let nl = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    assert!(e.contains(&format!(":{nl}:0:")), "{e}");
    // a second header is an error
    std::fs::write(&path, "a,b\n1,2\nc,d\n").unwrap();
    let e = CsvF64::read(&path, 1, 1).unwrap_err().to_string();
    assert!(e.contains(":3:"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
