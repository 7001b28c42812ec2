use super::*;

#[test]
fn file_errors_keep_their_causes() {
    use safetensors::{Dtype, tensor::TensorView};
    use std::error::Error;
    let dir = std::env::temp_dir().join(format!("deadrelu-tensors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.npz");
    std::fs::write(&junk, b"not a zip").unwrap();
    let e = read_npz(&junk).unwrap_err();
    assert!(matches!(e, TensorError::Zip { .. }), "{e}");
    assert!(e.source().is_some_and(|s| s.is::<zip::result::ZipError>()));
    assert!(
        e.to_string().contains("junk.npz: not an .npz (zip) file: "),
        "{e}"
    );
    let e = read_safetensors(&junk).unwrap_err();
    assert!(matches!(e, TensorError::Safetensors { .. }), "{e}");
    assert!(
        e.source()
            .is_some_and(|s| s.is::<safetensors::SafeTensorError>())
    );
    // a NaN and a complex dtype: the tensor and the entry named
    let bytes: Vec<u8> = [0.5f64, f64::NAN]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let view = TensorView::new(Dtype::F64, vec![2], &bytes).unwrap();
    let path = dir.join("nan.safetensors");
    std::fs::write(&path, safetensors::serialize([("w", view)], None).unwrap()).unwrap();
    let e = read_safetensors(&path).unwrap_err();
    assert!(
        matches!(e, TensorError::NotFinite { ref name, index: 1, .. } if name == "w"),
        "{e}"
    );
    let view = TensorView::new(Dtype::BOOL, vec![2], &[1, 0]).unwrap();
    std::fs::write(&path, safetensors::serialize([("b", view)], None).unwrap()).unwrap();
    let e = read_safetensors(&path).unwrap_err();
    assert!(
        matches!(e, TensorError::Dtype { ref name, ref dtype, .. } if name == "b" && dtype == "BOOL"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn npy_round_trip_and_guards() {
    use ndarray_npy::WriteNpyExt;
    let a = ndarray::arr2(&[[1.5f32, -2.0], [0.25, 3.0]]);
    let mut bytes = Vec::new();
    a.write_npy(&mut bytes).unwrap();
    let t = npy_from_bytes(&bytes).unwrap();
    assert_eq!(t.shape, vec![2, 2]);
    assert_eq!(t.data, vec![1.5, -2.0, 0.25, 3.0]);
    assert!(t.exact);
    let big = ndarray::arr1(&[(1i64 << 53) + 1]);
    let mut bytes = Vec::new();
    big.write_npy(&mut bytes).unwrap();
    assert!(!npy_from_bytes(&bytes).unwrap().exact);
    // A header that claims far more elements than the file holds is refused early.
    let at = bytes.windows(4).position(|w| w == b"(1,)").unwrap();
    let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
    let mut forged = bytes[..at].to_vec();
    forged.extend_from_slice(b"(999,)");
    forged.extend_from_slice(&bytes[at + 4..nl - 2]); // two padding spaces fewer
    forged.extend_from_slice(&bytes[nl..]);
    let e = npy_from_bytes(&forged).unwrap_err().to_string();
    assert!(e.contains("declares"), "{e}");
    assert!(npy_from_bytes(b"hello world").is_err());
}

#[test]
fn shapes_are_checked() {
    let t = |shape: Vec<usize>| Tensor {
        data: vec![0.0; shape.iter().product()],
        shape,
        exact: true,
    };
    let (x, y, exact) = data_arrays(t(vec![3, 2, 2]), Some(t(vec![3])), 4, 1).unwrap();
    assert_eq!((x.dim(), y.unwrap().dim(), exact), ((3, 4), (3, 1), true));
    assert!(data_arrays(t(vec![3, 5]), None, 4, 1).is_err());
    assert!(data_arrays(t(vec![3, 4]), Some(t(vec![2])), 4, 1).is_err());
}
