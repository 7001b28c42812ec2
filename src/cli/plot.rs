//! SVG plots (plotters, SVG backend only): probability of a dead layer against depth,
//! one curve per width, with the lower bound drawn beside each estimate.

use plotters::prelude::*;
use std::path::Path;

/// One curve: a label and points `(depth, estimate, ci_lo, ci_hi, bound)`.
pub struct Curve {
    /// Legend text.
    pub label: String,
    /// `(x, estimate, lo, hi, bound)`.
    pub points: Vec<(f64, f64, f64, f64, Option<f64>)>,
}

/// Draws the curves to `path`.
///
/// # Errors
/// The plotting backend's error as text (e.g. an unwritable path).
pub fn plot_curves(
    path: &Path,
    title: &str,
    x_label: &str,
    curves: &[Curve],
) -> Result<(), String> {
    let root = SVGBackend::new(path, (800, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let xs = curves.iter().flat_map(|c| c.points.iter().map(|p| p.0));
    let (xmin, xmax) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (xmin, xmax) = if xmin.is_finite() {
        (xmin - 0.5, xmax + 0.5)
    } else {
        (0.0, 1.0)
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(xmin..xmax, 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("probability")
        .draw()
        .map_err(|e| e.to_string())?;
    for (idx, curve) in curves.iter().enumerate() {
        let color = Palette99::pick(idx).to_rgba();
        chart
            .draw_series(LineSeries::new(
                curve.points.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("{} (estimate, 95% CI)", curve.label))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                curve
                    .points
                    .iter()
                    .map(|p| PathElement::new(vec![(p.0, p.2), (p.0, p.3)], color.stroke_width(1))),
            )
            .map_err(|e| e.to_string())?;
        let bound: Vec<(f64, f64)> = curve
            .points
            .iter()
            .filter_map(|p| p.4.map(|b| (p.0, b)))
            .collect();
        if !bound.is_empty() {
            chart
                .draw_series(
                    bound
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, color.stroke_width(1))),
                )
                .map_err(|e| e.to_string())?
                .label(format!("{} (lower bound)", curve.label))
                .legend(move |(x, y)| Circle::new((x + 10, y), 3, color.stroke_width(1)));
        }
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
