//! The three figures: probabilities, training outcomes, inactive counts.

use super::*;

/// The probability figure: two panels (some layer dead; some first-layer neuron
/// inactive), the legend to the right of both, the caption below.
pub(super) fn probability_svg(out: &Value, results: &[Value]) -> Result<String, PlotError> {
    let configs = distinct(results);
    let plain: Vec<Config> = configs.iter().map(|(c, _)| c.clone()).collect();
    let axis = x_axis(&plain);
    let dead = series(&configs, axis, "p_dead_layer", "ci95", "bound_dead_layer");
    let first = series(
        &configs,
        axis,
        "p_dead_first_layer_neuron",
        "p_dead_first_layer_neuron_ci95",
        "bound_dead_first_layer_neuron",
    );
    let caption = wrap(
        &format!(
            "{} Markers: Monte Carlo estimates with 95% Wilson intervals; open markers on dashed lines: \
             proven lower bounds (exact or certified), where one exists.",
            setup_text(out, &plain)
        ),
        140,
    );
    let (panel_w, panel_h) = (440u32, 400u32);
    let caption_h = CAPTION_LINE * u32::try_from(caption.len()).unwrap_or(1) + 12;
    let size = (2 * panel_w + LEGEND_WIDTH, panel_h + caption_h);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, bottom) = root.split_vertically(panel_h);
        let (panels, legend) = top.split_horizontally(2 * panel_w);
        let (left, right) = panels.split_horizontally(panel_w);
        let x_desc = match axis {
            XAxis::Depth => "depth L",
            XAxis::Width => "width of the hidden layers",
        };
        let where_ = situation(out);
        probability_panel(
            &left,
            &format!("P(some hidden layer dead {where_})"),
            x_desc,
            &dead,
        )?;
        probability_panel(
            &right,
            &format!("P(some first-layer neuron inactive {where_})"),
            x_desc,
            &first,
        )?;
        let mut entries: Vec<(String, usize, RGBColor, bool)> = dead
            .iter()
            .enumerate()
            .map(|(i, s)| (s.label.clone(), i, PALETTE[i % PALETTE.len()], false))
            .collect();
        entries.push(("estimate, 95% interval".into(), 0, TEXT, false));
        if dead
            .iter()
            .chain(&first)
            .any(|s| s.points.iter().any(|p| p.bound.is_some()))
        {
            entries.push(("lower bound".into(), 0, TEXT, true));
        }
        draw_legend(&legend, &entries)?;
        draw_caption(&bottom, &caption)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One panel of the probability figure.
pub(super) fn probability_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    x_desc: &str,
    series: &[Series],
) -> Result<(), PlotError> {
    let (lo, hi) = x_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.x)));
    let ticks = integer_ticks(lo, hi);
    let pad = 0.5f64.max((hi - lo) as f64 * 0.04);
    let x_coord = Axis::new(
        lo as f64 - pad..hi as f64 + pad,
        ticks.iter().map(|&t| t as f64),
    );
    let y_coord = Axis::new(-0.02..1.02, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 19).into_font().color(&TEXT))
        .margin(10)
        .margin_right(16)
        .x_label_area_size(42)
        .y_label_area_size(48)
        .build_cartesian_2d(x_coord, y_coord)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("probability")
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(TEXT)
        .label_style((FONT, 16).into_font().color(&TEXT))
        .axis_desc_style((FONT, 17).into_font().color(&TEXT))
        .draw()
        .map_err(err)?;
    let plot = chart.plotting_area().strip_coord_spec();
    let n = series.len();
    // Series sharing an x are shifted apart a little, so their bars do not overlap.
    let spread = ((hi - lo) as f64 / 40.0).clamp(0.04, 0.15);
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let shift = (i as f64 - (n as f64 - 1.0) / 2.0) * spread;
        let at = |p: &Point| p.x as f64 + shift;
        if s.points.len() > 1 {
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().map(|p| (at(p), p.p)),
                    color.stroke_width(2),
                ))
                .map_err(err)?;
        }
        for p in &s.points {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(at(p), p.lo), (at(p), p.hi)],
                    color.stroke_width(2),
                )))
                .map_err(err)?;
            for y in [p.lo, p.hi] {
                let (px, py) = pixel(&chart, (at(p), y));
                plot.draw(&PathElement::new(
                    vec![(px - 5, py), (px + 5, py)],
                    color.stroke_width(2),
                ))
                .map_err(err)?;
            }
        }
        let bounds: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|p| p.bound.map(|b| (at(p), b)))
            .collect();
        if bounds.len() > 1 {
            chart
                .draw_series(DashedLineSeries::new(
                    bounds.clone(),
                    6,
                    4,
                    color.stroke_width(1),
                ))
                .map_err(err)?;
        }
        for &c in &bounds {
            draw_marker(&plot, pixel(&chart, c), i, color, true)?;
        }
        for p in &s.points {
            draw_marker(&plot, pixel(&chart, (at(p), p.p)), i, color, false)?;
        }
    }
    Ok(())
}

/// The classes of a trained trial, their JSON keys and colours.
pub(super) const OUTCOMES: [(&str, &str, RGBColor); 5] = [
    ("dead at init", "dead_at_init", PALETTE[1]),
    ("became constant", "became_constant", PALETTE[4]),
    ("stayed >= V", "above_best_constant", PALETTE[5]),
    ("went below V", "below_best_constant", PALETTE[2]),
    ("diverged", "diverged", PALETTE[6]),
];

/// The training figure: one horizontal bar per configuration and optimizer, split into the
/// outcome fractions.
pub(super) fn training_svg(out: &Value, results: &[Value]) -> Result<String, PlotError> {
    let trained: Vec<&Value> = results
        .iter()
        .filter(|r| r["training"].is_object())
        .collect();
    let plain: Vec<Config> = distinct(results).into_iter().map(|(c, _)| c).collect();
    let varies = Varies::of(&plain);
    let rows: Vec<(String, Vec<f64>)> = trained
        .iter()
        .map(|r| {
            let c = Config::of(r);
            let label = format!(
                "{}: {}{}",
                r["training"]["optimizer"].as_str().unwrap_or("?"),
                c.arch_label(),
                varies.suffix(&c)
            );
            let fractions = OUTCOMES
                .iter()
                .map(|(_, key, _)| r["training"][*key].as_f64().unwrap_or(0.0))
                .collect();
            (label, fractions)
        })
        .collect();
    let t = &out["training"];
    let steps = t["steps"].as_u64().unwrap_or(0);
    let batch = t["batch"]
        .as_u64()
        .map(|b| format!("mini-batches of {b}"))
        .unwrap_or_else(|| "full batch".into());
    let caption = wrap(
        &format!(
            "{} Every trial trained {steps} steps ({batch}), in f64. V = risk of the best constant; \
             dead at init: some hidden layer dead before training (frozen, risk >= V for ever).",
            setup_text(out, &plain)
        ),
        140,
    );
    let row_h = 24u32;
    let label_w = 14 + 8 * rows.iter().map(|(l, _)| l.len()).max().unwrap_or(8) as u32;
    let label_w = label_w.clamp(120, 420);
    let plot_h = 60 + 50 + row_h * u32::try_from(rows.len()).unwrap_or(1);
    let caption_h = CAPTION_LINE * u32::try_from(caption.len()).unwrap_or(1) + 12;
    let width = (label_w + 560 + 180).max(1000);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (width, plot_h + caption_h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, bottom) = root.split_vertically(plot_h);
        let (plot, legend) = top.split_horizontally(width - 180);
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&plot)
            .caption(
                "Outcome of training, fraction of trials",
                (FONT, 19).into_font().color(&TEXT),
            )
            .margin(10)
            .margin_right(20)
            .x_label_area_size(42)
            .y_label_area_size(label_w)
            .build_cartesian_2d(
                Axis::new(0.0..1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
                Axis::new(0.0..n, []),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("fraction of trials")
            .x_label_formatter(&|x| format!("{x:.1}"))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(TEXT)
            .label_style((FONT, 16).into_font().color(&TEXT))
            .axis_desc_style((FONT, 17).into_font().color(&TEXT))
            .draw()
            .map_err(err)?;
        for (i, (label, fractions)) in rows.iter().enumerate() {
            let y0 = n - i as f64 - 0.85;
            let y1 = n - i as f64 - 0.15;
            let mut x = 0.0;
            for ((_, _, color), f) in OUTCOMES.iter().zip(fractions) {
                if *f > 0.0 {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x, y0), ((x + f).min(1.0), y1)],
                            color.filled(),
                        )))
                        .map_err(err)?;
                }
                x += f;
            }
            let (px, py) = chart.backend_coord(&(0.0, (y0 + y1) / 2.0));
            root.draw(&Text::new(
                label.clone(),
                (px - 8, py),
                (FONT, 16)
                    .into_font()
                    .color(&TEXT)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(err)?;
        }
        for (i, (name, _, color)) in OUTCOMES.iter().enumerate() {
            let y = 48 + 22 * i32::try_from(i).unwrap_or(0);
            legend
                .draw(&Rectangle::new([(6, y - 7), (26, y + 7)], color.filled()))
                .map_err(err)?;
            legend
                .draw(&Text::new(
                    name.to_string(),
                    (34, y - 7),
                    (FONT, 16).into_font().color(&TEXT),
                ))
                .map_err(err)?;
        }
        draw_caption(&bottom, &caption)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The inactive-count figure: mean inactive neurons of each hidden layer, one curve per
/// configuration.
pub(super) fn inactive_svg(out: &Value, results: &[Value]) -> Result<String, PlotError> {
    let configs = distinct(results);
    let plain: Vec<Config> = configs.iter().map(|(c, _)| c.clone()).collect();
    let varies = Varies::of(&plain);
    let mut curves: Vec<Series> = Vec::new();
    for (c, r) in &configs {
        let means = r["mean_inactive_per_layer"].as_array();
        let hists = r["counts"]["inactive_hist"].as_array();
        let mut points = Vec::new();
        for (k, m) in means.into_iter().flatten().enumerate() {
            let Some(mean) = m.as_f64() else { continue };
            let half = hists
                .and_then(|h| h.get(k))
                .and_then(Value::as_array)
                .map(|h| {
                    h.iter()
                        .map(|v| v.as_u64().unwrap_or(0))
                        .collect::<Vec<_>>()
                })
                .and_then(|h| mean_interval(&h))
                .map_or(0.0, |(_, half)| half);
            points.push(Point {
                x: i64::try_from(k + 1).unwrap_or(i64::MAX),
                p: mean,
                lo: mean - half,
                hi: mean + half,
                bound: None,
            });
        }
        if !points.is_empty() {
            curves.push(Series {
                label: format!("{}{}", c.arch_label(), varies.suffix(c)),
                points,
            });
        }
    }
    let max_width = plain
        .iter()
        .flat_map(|c| c.hidden().iter().copied())
        .max()
        .unwrap_or(1)
        .max(1);
    let caption = wrap(
        &format!(
            "{} Mean number of inactive neurons (every pre-activation <= 0 {}) per hidden layer, \
             with 95% intervals of the mean.",
            setup_text(out, &plain),
            situation(out)
        ),
        140,
    );
    let (plot_w, plot_h) = (760u32, 420u32);
    let caption_h = CAPTION_LINE * u32::try_from(caption.len()).unwrap_or(1) + 12;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (plot_w + LEGEND_WIDTH, plot_h + caption_h))
            .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, bottom) = root.split_vertically(plot_h);
        let (plot, legend) = top.split_horizontally(plot_w);
        let (lo, hi) = x_range(curves.iter().flat_map(|s| s.points.iter().map(|p| p.x)));
        let ticks = integer_ticks(lo, hi);
        let y_hi = max_width as f64;
        let y_ticks: Vec<f64> = integer_ticks(0, i64::try_from(max_width).unwrap_or(i64::MAX))
            .into_iter()
            .map(|t| t as f64)
            .collect();
        let mut chart = ChartBuilder::on(&plot)
            .caption(
                format!("Inactive neurons per hidden layer ({})", situation(out)),
                (FONT, 19).into_font().color(&TEXT),
            )
            .margin(10)
            .margin_right(16)
            .x_label_area_size(42)
            .y_label_area_size(48)
            .build_cartesian_2d(
                Axis::new(
                    lo as f64 - 0.5..hi as f64 + 0.5,
                    ticks.iter().map(|&t| t as f64),
                ),
                Axis::new(-0.02 * y_hi..y_hi * 1.02, y_ticks),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("hidden layer k")
            .y_desc("mean inactive neurons")
            .x_label_formatter(&|x| format!("{}", x.round() as i64))
            .y_label_formatter(&|y| format!("{}", y.round() as i64))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(TEXT)
            .label_style((FONT, 16).into_font().color(&TEXT))
            .axis_desc_style((FONT, 17).into_font().color(&TEXT))
            .draw()
            .map_err(err)?;
        let n = curves.len();
        for (i, s) in curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let shift = (i as f64 - (n as f64 - 1.0) / 2.0) * 0.06f64.min(0.6 / n.max(1) as f64);
            let at = |p: &Point| p.x as f64 + shift;
            if s.points.len() > 1 {
                chart
                    .draw_series(LineSeries::new(
                        s.points.iter().map(|p| (at(p), p.p)),
                        color.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
            for p in &s.points {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(at(p), p.lo), (at(p), p.hi)],
                        color.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            let area = chart.plotting_area().strip_coord_spec();
            for p in &s.points {
                draw_marker(&area, pixel(&chart, (at(p), p.p)), i, color, false)?;
            }
        }
        let entries: Vec<(String, usize, RGBColor, bool)> = curves
            .iter()
            .enumerate()
            .map(|(i, s)| (s.label.clone(), i, PALETTE[i % PALETTE.len()], false))
            .collect();
        draw_legend(&legend, &entries)?;
        draw_caption(&bottom, &caption)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
