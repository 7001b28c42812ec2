//! Tests of the figures.

use super::*;
use serde_json::json;

fn result(arch: &[usize], p: f64, training: Option<(&str, f64)>) -> Value {
    json!({
        "arch": arch, "init": "torch-default", "bias_init": "default", "trials": 100,
        "p_dead_layer": p, "ci95": [p - 0.05, p + 0.05], "bound_dead_layer": p / 2.0,
        "p_dead_first_layer_neuron": 0.5, "p_dead_first_layer_neuron_ci95": [0.4, 0.6],
        "bound_dead_first_layer_neuron": 0.4,
        "mean_inactive_per_layer": vec![0.5; arch.len() - 2],
        "counts": {"inactive_hist": vec![vec![50, 50]; arch.len() - 2]},
        "training": training.map(|(name, below)| json!({
            "optimizer": name, "dead_at_init": p, "became_constant": 0.0,
            "above_best_constant": 1.0 - p - below, "below_best_constant": below,
            "diverged": 0.0})),
    })
}

fn out(results: Vec<Value>) -> Value {
    json!({"trials": 100, "seed": 3, "data": "grid:-1,1:64", "target": "abs",
           "data_seed": 0, "domain": null, "results": results,
           "training": {"steps": 20, "batch": null}})
}

/// The text of every `<text>` element of an SVG.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|part| {
            let (_, rest) = part.split_once('>')?;
            let (text, _) = rest.split_once("</text>")?;
            Some(text.trim().to_string())
        })
        .collect()
}

#[test]
fn integer_ticks_are_integers_on_a_125_step() {
    assert_eq!(integer_ticks(2, 6), vec![2, 3, 4, 5, 6]);
    assert_eq!(integer_ticks(2, 40), vec![5, 10, 15, 20, 25, 30, 35, 40]);
    assert_eq!(
        integer_ticks(1, 20),
        vec![2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    );
    assert_eq!(integer_ticks(5, 7), vec![5, 6, 7]);
}

#[test]
fn a_single_configuration_gets_a_range_around_it() {
    assert_eq!(x_range([6].into_iter()), (5, 7));
    assert_eq!(x_range([3, 9].into_iter()), (3, 9));
}

#[test]
fn x_axis_is_width_only_when_only_width_varies() {
    let c = |arch: &[usize]| Config::of(&result(arch, 0.1, None));
    assert_eq!(x_axis(&[c(&[1, 2, 1]), c(&[1, 2, 2, 1])]), XAxis::Depth);
    assert_eq!(x_axis(&[c(&[1, 2, 1]), c(&[1, 5, 1])]), XAxis::Width);
    assert_eq!(x_axis(&[c(&[1, 2, 1])]), XAxis::Depth);
}

#[test]
fn mean_interval_from_a_histogram() {
    // 50 trials with 0, 50 with 1: mean 1/2, sample variance 25/99.
    let (m, half) = mean_interval(&[50, 50]).unwrap();
    assert_eq!(m, 0.5);
    assert!((half - 1.96 * (25.0f64 / 99.0 / 100.0).sqrt()).abs() < 1e-15);
    assert!(mean_interval(&[0, 0]).is_none());
}

#[test]
fn sibling_names() {
    assert_eq!(
        sibling(Path::new("a/p.svg"), "training"),
        Path::new("a/p-training.svg")
    );
    assert_eq!(sibling(Path::new("p"), "inactive"), Path::new("p-inactive"));
    assert_eq!(Format::of(Path::new("x.PNG")), Format::Png);
    assert_eq!(Format::of(Path::new("x.svg")), Format::Svg);
}

#[test]
fn figures_hold_the_caption_labels_and_palette() {
    register_font();
    let o = out(vec![
        result(&[1, 2, 1], 0.1, Some(("adam", 0.3))),
        result(&[1, 3, 3, 1], 0.2, Some(("adam", 0.3))),
        result(&[1, 3, 3, 1], 0.2, Some(("sgd", 0.1))),
        result(&[1, 3, 3, 3, 1], 0.4, Some(("adam", 0.2))),
    ]);
    let results = o["results"].as_array().unwrap().clone();
    let svg = probability_svg(&o, &results).unwrap();
    assert!(
        svg.contains("100 trials per configuration (seed 3"),
        "{svg}"
    );
    assert!(svg.contains("L = number of affine layers"));
    assert!(svg.contains("width 3"));
    assert!(svg.contains("#0072B2"), "Okabe-Ito blue");
    // Integer depth ticks only.
    let texts = texts(&svg);
    for tick in ["2", "3", "4"] {
        assert!(texts.iter().any(|t| t == tick), "{texts:?}");
    }
    assert!(
        !texts.iter().any(|t| t.contains(".5") || t == "3.0"),
        "{texts:?}"
    );
    let training = training_svg(&o, &results).unwrap();
    assert!(training.contains("adam: 1-3-3-1") && training.contains("sgd: 1-3-3-1"));
    assert!(training.contains("went below V"));
    assert!(training.contains("20 steps (full batch)"));
    let inactive = inactive_svg(&o, &results).unwrap();
    assert!(inactive.contains("1-3-3-3-1") && inactive.contains("hidden layer k"));
}

#[test]
fn write_plots_writes_the_three_figures() {
    let dir = std::env::temp_dir().join(format!("deadrelu-plot-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = out(vec![
        result(&[1, 3, 1], 0.05, Some(("adam", 0.3))),
        result(&[1, 3, 3, 1], 0.2, Some(("adam", 0.3))),
        result(&[1, 3, 3, 1], 0.2, Some(("sgd", 0.1))),
        result(&[1, 3, 3, 3, 1], 0.4, Some(("adam", 0.2))),
    ]);
    for ext in ["svg", "png"] {
        let written = write_plots(&dir.join(format!("p.{ext}")), &o).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                format!("p.{ext}"),
                format!("p-training.{ext}"),
                format!("p-inactive.{ext}")
            ]
        );
        for p in &written {
            let bytes = std::fs::read(p).unwrap();
            match ext {
                "png" => assert_eq!(&bytes[..4], b"\x89PNG"),
                _ => assert!(bytes.starts_with(b"<svg")),
            }
        }
    }
    if std::env::var_os("DEADRELU_KEEP_PLOTS").is_none() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn png_is_rendered_with_text() {
    register_font();
    let o = out(vec![result(&[1, 3, 3, 1], 0.2, None)]);
    let results = o["results"].as_array().unwrap().clone();
    let svg = probability_svg(&o, &results).unwrap();
    let png = svg_to_png(&svg, 1.0).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Width and height in the IHDR chunk equal the SVG's size.
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(w, 2 * 440 + LEGEND_WIDTH);
    // The same figure without its text renders to a different (smaller) PNG: text is drawn.
    let stripped: String = svg
        .split("<text")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                part.split_once("</text>")
                    .map(|(_, rest)| rest.to_string())
                    .unwrap_or_default()
            }
        })
        .collect();
    assert_ne!(svg_to_png(&stripped, 1.0).unwrap(), png);
}
