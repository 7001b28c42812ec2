use super::*;
use crate::activity::filtered::{Filter, best_constant, exact_risk};
use crate::data::{DataSpec, Target, read_csv};
use rand::{Rng, SeedableRng};

/// The batched exact inspection and the rational filtered path agree on every
/// decision and value: f32 networks with exact ties, a born-dead layer, CSV decimals,
/// ratios (one-point fallback) and a huge/tiny magnitude row.
#[test]
fn agrees_with_the_rational_path() {
    let dir = std::env::temp_dir().join(format!("deadrelu-binspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for (case, widths) in [vec![3, 6, 5, 2], vec![2, 4, 4, 1], vec![4, 7, 3, 3, 1]]
        .into_iter()
        .enumerate()
    {
        for dead in [false, true] {
            let arch = Arch::new(widths.clone()).unwrap();
            let mut params: Vec<f64> = (0..arch.num_params())
                .map(|_| rng.gen_range(-1.0f64..1.0) as f32 as f64)
                .collect();
            if dead {
                for p in &mut params[arch.layer_range(2)] {
                    *p = -p.abs();
                }
            }
            // neuron 0 of layer 1: w = (1, -1, 0..), b = 0: an exact tie where x_0 = x_1
            let n = widths[0];
            for i in 0..n {
                params[arch.weight_index(1, 0, i)] = [1.0, -1.0].get(i).copied().unwrap_or(0.0);
            }
            params[arch.bias_index(1, 0)] = 0.0;
            let mut text = String::from("header\n");
            let outputs = *widths.last().unwrap();
            for r in 0..30 {
                let mut cells: Vec<String> = (0..n + outputs)
                    .map(|_| format!("{:.6}", rng.gen_range(-1.0f64..1.0)))
                    .collect();
                match r % 6 {
                    0 => cells[1] = cells[0].clone(),
                    1 => cells[n] = "1/3".into(),
                    2 => cells[0] = "1e-30".into(),
                    3 => cells[1] = "0.5".into(),
                    _ => {}
                }
                text.push_str(&cells.join(","));
                text.push('\n');
            }
            let path = dir.join(format!("d{case}{dead}.csv"));
            std::fs::write(&path, &text).unwrap();
            let data = DataF64::load_with_ints(
                &DataSpec::Csv(path.clone()),
                n,
                outputs,
                &Target::Abs,
                0,
                true,
            )
            .unwrap();
            let got = inspect_exact_batched(&arch, &params, &data, |_| {})
                .unwrap()
                .expect("applies");
            let exact_params = params
                .iter()
                .map(|v| rational_from_f64(*v).unwrap())
                .collect();
            let net = Network::new(arch.clone(), exact_params).unwrap();
            let exact_data = read_csv(&path, n, outputs).unwrap();
            let filter = Filter::new(&net).unwrap();
            let want = filter.activity(&exact_data).unwrap();
            let out = filter.outputs(&exact_data, &want.activity);
            assert_eq!(
                got.activity.status, want.activity.status,
                "{widths:?} {dead}"
            );
            assert_eq!(got.activity.exact_ties, want.activity.exact_ties);
            assert!(got.activity.exact_ties > 0);
            assert_eq!(
                got.activity.outputs_identical,
                want.activity.outputs_identical
            );
            assert_eq!(got.exact_fallbacks, want.exact_fallbacks);
            assert_eq!(got.risk, exact_risk(&out, &exact_data));
            assert_eq!(got.best_constant_risk, best_constant(&exact_data).0);
            assert_eq!(!got.activity.dead_layers().is_empty(), dead);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
