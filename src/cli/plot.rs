//! Plots of an `estimate` (or `merge`) result, drawn from its JSON: SVG with plotters, PNG
//! by rendering that SVG in pure Rust (resvg, text in the embedded DejaVu Sans), so no
//! system library or font is needed.
//!
//! `--plot PATH` writes up to three figures, in the format of PATH's extension (`.png`,
//! else SVG):
//! - `PATH`: the probability that some hidden layer is dead and that some first-layer
//!   neuron is inactive, against depth (one curve per width) or, when only the width
//!   varies, against width; filled markers with 95% Wilson intervals, open markers on a
//!   dashed line for the proven lower bounds;
//! - `STEM-training.EXT` (with `--train`): the outcome of training, one stacked bar per
//!   configuration and optimizer;
//! - `STEM-inactive.EXT`: the mean number of inactive neurons per hidden layer, with 95%
//!   intervals of the mean, one curve per configuration.
//!
//! Every figure has a caption with the setup (trials, seed, data or box, init, what `L`
//! counts). Colours are the Okabe-Ito palette (safe for colour-blind readers) and every
//! series also has its own marker shape, so the figures read in grey too.

use plotters::coord::Shift;
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The Okabe-Ito palette, in the order series take it (yellow last: it is faint on white).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];

/// Marker shapes, cycled independently of the colours.
const SHAPES: usize = 5;

const FONT: &str = "sans-serif";
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// The figure format, from the path's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics (any extension but `.png`).
    Svg,
    /// A PNG bitmap at twice the SVG's pixel size.
    Png,
}

impl Format {
    /// `.png` (any case) gives PNG, everything else SVG.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("png") => Format::Png,
            _ => Format::Svg,
        }
    }
}

/// Registers the embedded font with plotters' text measurement (once per process).
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font (a compile-time constant of the `dejavu`
        // crate), so registration cannot fail; if it did, text would be measured wrongly
        // and plotters would report the missing font as a drawing error.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Renders an SVG document to PNG bytes at `scale` times its size, on white.
///
/// # Errors
/// The SVG does not parse, or its size is zero or too large for a bitmap.
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    let mut options = resvg::usvg::Options::default();
    {
        let db = options.fontdb_mut();
        db.load_font_data(dejavu::sans::regular().to_vec());
        db.load_font_data(dejavu::sans::bold().to_vec());
        db.set_sans_serif_family("DejaVu Sans");
    }
    options.font_family = "DejaVu Sans".into();
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or("empty figure")?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or("figure too large for a bitmap")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| e.to_string())
}

/// Writes an SVG document to `path` as SVG or PNG.
fn write_figure(path: &Path, svg: &str) -> Result<(), String> {
    let bytes = match Format::of(path) {
        Format::Svg => svg.as_bytes().to_vec(),
        Format::Png => svg_to_png(svg, 2.0)?,
    };
    std::fs::write(path, bytes).map_err(|e| e.to_string())
}

/// `dir/stem-suffix.ext` beside `path`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plot".into());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{suffix}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{suffix}"),
    };
    path.with_file_name(name)
}

/// One configuration of the sweep, read from a result object.
#[derive(Clone, Debug)]
struct Config {
    arch: Vec<usize>,
    init: String,
    bias_init: String,
}

impl Config {
    fn of(r: &Value) -> Config {
        Config {
            arch: r["arch"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_u64().and_then(|v| usize::try_from(v).ok()))
                        .collect()
                })
                .unwrap_or_default(),
            init: r["init"].as_str().unwrap_or("").to_string(),
            bias_init: r["bias_init"].as_str().unwrap_or("default").to_string(),
        }
    }

    fn same(&self, other: &Config) -> bool {
        self.arch == other.arch && self.init == other.init && self.bias_init == other.bias_init
    }

    /// L, the number of affine layers.
    fn depth(&self) -> usize {
        self.arch.len().saturating_sub(1)
    }

    fn hidden(&self) -> &[usize] {
        match self.arch.len() {
            0..=2 => &[],
            n => &self.arch[1..n - 1],
        }
    }

    /// "width 3" when every hidden layer has width 3, else "hidden 8-4-2".
    fn width_label(&self) -> String {
        let hidden = self.hidden();
        match hidden.first() {
            Some(&w) if hidden.iter().all(|&v| v == w) => format!("width {w}"),
            _ => format!(
                "hidden {}",
                hidden
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join("-")
            ),
        }
    }

    fn arch_label(&self) -> String {
        self.arch
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// Which of init and bias init differ across the sweep, so labels name only those.
struct Varies {
    init: bool,
    bias: bool,
}

impl Varies {
    fn of(configs: &[Config]) -> Varies {
        let first = configs.first();
        Varies {
            init: configs
                .iter()
                .any(|c| Some(&c.init) != first.map(|f| &f.init)),
            bias: configs
                .iter()
                .any(|c| Some(&c.bias_init) != first.map(|f| &f.bias_init)),
        }
    }

    fn suffix(&self, c: &Config) -> String {
        let mut s = String::new();
        if self.init {
            s.push_str(&format!(", {}", c.init));
        }
        if self.bias {
            s.push_str(&format!(", biases {}", c.bias_init));
        }
        s
    }
}

/// A point of a curve: integer `x`, the estimate with its 95% interval, and the bound.
#[derive(Clone, Copy, Debug)]
struct Point {
    x: i64,
    p: f64,
    lo: f64,
    hi: f64,
    bound: Option<f64>,
}

#[derive(Debug)]
struct Series {
    label: String,
    points: Vec<Point>,
}

/// What the x axis of the probability figure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum XAxis {
    Depth,
    Width,
}

/// The distinct configurations, in order of first appearance, with the first result of each
/// (results repeat a configuration once per optimizer with `--train`).
fn distinct(results: &[Value]) -> Vec<(Config, &Value)> {
    let mut out: Vec<(Config, &Value)> = Vec::new();
    for r in results {
        let c = Config::of(r);
        if !out.iter().any(|(o, _)| o.same(&c)) {
            out.push((c, r));
        }
    }
    out
}

fn x_axis(configs: &[Config]) -> XAxis {
    let depths: Vec<usize> = configs.iter().map(Config::depth).collect();
    let widths: Vec<Option<usize>> = configs
        .iter()
        .map(|c| c.hidden().first().copied())
        .collect();
    let depth_varies = depths.iter().any(|&d| d != depths[0]);
    let width_varies = widths.iter().any(|&w| w != widths[0]);
    if !depth_varies && width_varies {
        XAxis::Width
    } else {
        XAxis::Depth
    }
}

/// Curves of one probability (`key`, its interval `ci_key`, its bound `bound_key`).
fn series(
    configs: &[(Config, &Value)],
    axis: XAxis,
    key: &str,
    ci_key: &str,
    bound_key: &str,
) -> Vec<Series> {
    let plain: Vec<Config> = configs.iter().map(|(c, _)| c.clone()).collect();
    let varies = Varies::of(&plain);
    let mut out: Vec<Series> = Vec::new();
    for (c, r) in configs {
        let Some(p) = r[key].as_f64() else { continue };
        let (x, label) = match axis {
            XAxis::Depth => (
                c.depth(),
                format!("{}{}", c.width_label(), varies.suffix(c)),
            ),
            XAxis::Width => (
                c.hidden().first().copied().unwrap_or(0),
                format!("L = {}{}", c.depth(), varies.suffix(c)),
            ),
        };
        let point = Point {
            x: i64::try_from(x).unwrap_or(i64::MAX),
            p,
            lo: r[ci_key][0].as_f64().unwrap_or(p),
            hi: r[ci_key][1].as_f64().unwrap_or(p),
            bound: r[bound_key].as_f64(),
        };
        match out.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push(point),
            None => out.push(Series {
                label,
                points: vec![point],
            }),
        }
    }
    for s in &mut out {
        s.points.sort_by_key(|p| p.x);
    }
    out
}

/// Integer ticks from `lo` to `hi` (inclusive), at most about 12, on a 1-2-5 step.
fn integer_ticks(lo: i64, hi: i64) -> Vec<i64> {
    let span = (hi - lo).max(1);
    let mut step = 1i64;
    'find: for scale in [1i64, 10, 100, 1_000, 10_000, 100_000] {
        for m in [1i64, 2, 5] {
            step = m * scale;
            if span / step <= 12 {
                break 'find;
            }
        }
    }
    let first = lo.div_euclid(step) * step;
    let first = if first < lo { first + step } else { first };
    (0..)
        .map(|i| first + i * step)
        .take_while(|&t| t <= hi)
        .collect()
}

/// The x range: half a step beyond the extreme points, and at least one unit either side.
fn x_range(points: impl Iterator<Item = i64>) -> (i64, i64) {
    let (lo, hi) = points.fold((i64::MAX, i64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    if lo > hi {
        return (0, 2);
    }
    if lo == hi {
        return (lo.saturating_sub(1), hi.saturating_add(1));
    }
    (lo, hi)
}

/// A linear f64 axis whose ticks are exactly `ticks` (plotters' own f64 axis picks
/// "nice" ticks such as 2.5, which a depth axis must not have).
struct Axis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Axis {
    fn new(range: Range<f64>, ticks: impl IntoIterator<Item = f64>) -> Axis {
        Axis {
            range,
            ticks: ticks.into_iter().collect(),
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span <= 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let fraction = (value - self.range.start) / span;
        limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only bold mesh lines, at the ticks; no light lines between them.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// A marker of shape `shape` (0 circle, 1 square, 2 triangle, 3 diamond, 4 inverted
/// triangle) as polygon vertices around (0, 0), `r` pixels in size.
fn marker_outline(shape: usize, r: i32) -> Vec<(i32, i32)> {
    match shape % SHAPES {
        0 => (0..16)
            .map(|i| {
                let a = f64::from(i) * std::f64::consts::PI / 8.0;
                (
                    (f64::from(r) * a.cos()).round() as i32,
                    (f64::from(r) * a.sin()).round() as i32,
                )
            })
            .collect(),
        1 => {
            let s = r * 7 / 8;
            vec![(-s, -s), (s, -s), (s, s), (-s, s)]
        }
        2 => vec![(0, -r - 1), (r, r * 3 / 4), (-r, r * 3 / 4)],
        3 => vec![(0, -r - 1), (r, 0), (0, r + 1), (-r, 0)],
        _ => vec![(0, r + 1), (r, -r * 3 / 4), (-r, -r * 3 / 4)],
    }
}

/// Draws a filled marker (or a white one with a coloured outline when `hollow`) centred
/// at pixel `at` of `area`.
fn draw_marker(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    at: (i32, i32),
    shape: usize,
    color: RGBColor,
    hollow: bool,
) -> Result<(), String> {
    let outline: Vec<(i32, i32)> = marker_outline(shape, 5)
        .into_iter()
        .map(|(x, y)| (at.0 + x, at.1 + y))
        .collect();
    let fill = if hollow { WHITE } else { color };
    let mut closed = outline.clone();
    closed.push(outline[0]);
    area.draw(&Polygon::new(outline, fill.filled()))
        .map_err(err)?;
    area.draw(&PathElement::new(closed, color.stroke_width(2)))
        .map_err(err)
}

/// The pixel of data point `c` in the chart's plotting area (for [`draw_marker`]).
fn pixel<X, Y>(
    chart: &ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    c: (f64, f64),
) -> (i32, i32)
where
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let (x, y) = chart.backend_coord(&c);
    let (bx, by) = chart.plotting_area().get_base_pixel();
    (x - bx, y - by)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Writes `text` lines at the bottom area (the caption).
fn draw_caption(area: &DrawingArea<SVGBackend<'_>, Shift>, lines: &[String]) -> Result<(), String> {
    for (i, line) in lines.iter().enumerate() {
        area.draw(&Text::new(
            line.clone(),
            (16, 4 + CAPTION_LINE as i32 * i32::try_from(i).unwrap_or(0)),
            (FONT, 16).into_font().color(&TEXT),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Splits a caption into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The setup of the run, one sentence per fact, from the top level of the JSON.
fn setup_text(out: &Value, configs: &[Config]) -> String {
    let trials = out["trials"].as_u64().unwrap_or(0);
    let seed = out["seed"].as_u64().unwrap_or(0);
    let mut inits: Vec<String> = Vec::new();
    for c in configs {
        let text = if c.bias_init == "default" {
            c.init.clone()
        } else {
            format!("{} (biases {})", c.init, c.bias_init)
        };
        if !inits.contains(&text) {
            inits.push(text);
        }
    }
    let on = match out["domain"].as_str() {
        Some(domain) => format!(
            "Decided exactly on the whole input box {} (data not used).",
            domain
        ),
        None => format!(
            "Data {} (target {}, data seed {}), decided in f64.",
            out["data"].as_str().unwrap_or("?"),
            out["target"].as_str().unwrap_or("?"),
            out["data_seed"].as_u64().unwrap_or(0)
        ),
    };
    format!(
        "deadrelu estimate: {trials} trials per configuration (seed {seed}, trial i from stream i). \
         {on} Init {}. L = number of affine layers (L - 1 hidden layers).",
        inits.join(", ")
    )
}

fn situation(out: &Value) -> &'static str {
    if out["domain"].is_string() {
        "on the box"
    } else {
        "on the data"
    }
}

/// Writes every figure of `out` (an `estimate` or `merge` JSON object) for `--plot path`
/// and returns the paths written: `path`, and `STEM-training.EXT`, `STEM-inactive.EXT`
/// where the result has training outcomes, respectively inactive counts.
///
/// # Errors
/// A drawing or rendering error, or an unwritable path, as text.
pub fn write_plots(path: &Path, out: &Value) -> Result<Vec<PathBuf>, String> {
    register_font();
    let results = out["results"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut written = Vec::new();
    write_figure(path, &probability_svg(out, results)?)?;
    written.push(path.to_path_buf());
    if results.iter().any(|r| r["training"].is_object()) {
        let p = sibling(path, "training");
        write_figure(&p, &training_svg(out, results)?)?;
        written.push(p);
    }
    if results.iter().any(|r| {
        r["mean_inactive_per_layer"]
            .as_array()
            .is_some_and(|m| m.iter().any(Value::is_f64))
    }) {
        let p = sibling(path, "inactive");
        write_figure(&p, &inactive_svg(out, results)?)?;
        written.push(p);
    }
    Ok(written)
}

const LEGEND_WIDTH: u32 = 230;
const CAPTION_LINE: u32 = 19;

/// The probability figure: two panels (some layer dead; some first-layer neuron
/// inactive), the legend to the right of both, the caption below.
fn probability_svg(out: &Value, results: &[Value]) -> Result<String, String> {
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
fn probability_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    x_desc: &str,
    series: &[Series],
) -> Result<(), String> {
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

/// The legend: `(label, shape, colour, hollow)` rows, top left of `area`.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[(String, usize, RGBColor, bool)],
) -> Result<(), String> {
    for (i, (label, shape, color, hollow)) in entries.iter().enumerate() {
        let y = 48 + 22 * i32::try_from(i).unwrap_or(0);
        area.draw(&PathElement::new(
            vec![(6, y), (30, y)],
            color.stroke_width(2),
        ))
        .map_err(err)?;
        draw_marker(area, (18, y), *shape, *color, *hollow)?;
        area.draw(&Text::new(
            label.clone(),
            (38, y - 7),
            (FONT, 16).into_font().color(&TEXT),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// The classes of a trained trial, their JSON keys and colours.
const OUTCOMES: [(&str, &str, RGBColor); 5] = [
    ("dead at init", "dead_at_init", PALETTE[1]),
    ("became constant", "became_constant", PALETTE[4]),
    ("stayed >= V", "above_best_constant", PALETTE[5]),
    ("went below V", "below_best_constant", PALETTE[2]),
    ("diverged", "diverged", PALETTE[6]),
];

/// The training figure: one horizontal bar per configuration and optimizer, split into the
/// outcome fractions.
fn training_svg(out: &Value, results: &[Value]) -> Result<String, String> {
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

/// Mean and half-width of the 95% normal interval of the mean count, from a histogram
/// (`hist[c]` trials with `c` inactive neurons).
fn mean_interval(hist: &[u64]) -> Option<(f64, f64)> {
    let n: f64 = hist.iter().map(|&v| v as f64).sum();
    if n <= 0.0 {
        return None;
    }
    let mean = hist
        .iter()
        .enumerate()
        .map(|(c, &v)| c as f64 * v as f64)
        .sum::<f64>()
        / n;
    let var = hist
        .iter()
        .enumerate()
        .map(|(c, &v)| (c as f64 - mean).powi(2) * v as f64)
        .sum::<f64>()
        / (n - 1.0).max(1.0);
    Some((mean, 1.96 * (var / n).sqrt()))
}

/// The inactive-count figure: mean inactive neurons of each hidden layer, one curve per
/// configuration.
fn inactive_svg(out: &Value, results: &[Value]) -> Result<String, String> {
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

#[cfg(test)]
mod tests {
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
}
