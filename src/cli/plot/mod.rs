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

mod data;
mod draw;
mod figures;
#[cfg(test)]
mod tests;

use data::*;

/// Why a figure was not drawn or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// Drawing on the SVG canvas failed.
    #[error("drawing the figure: {0}")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Rendering the SVG to PNG failed.
    #[error("rendering the figure: {0}")]
    Render(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The figure has no size, or too large a one for a bitmap.
    #[error("{0}")]
    Size(&'static str),
    /// Writing the file failed.
    #[error("{0}")]
    Write(#[source] std::io::Error),
}
use draw::*;
use figures::*;

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
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>, PlotError> {
    let mut options = resvg::usvg::Options::default();
    {
        let db = options.fontdb_mut();
        db.load_font_data(dejavu::sans::regular().to_vec());
        db.load_font_data(dejavu::sans::bold().to_vec());
        db.set_sans_serif_family("DejaVu Sans");
    }
    options.font_family = "DejaVu Sans".into();
    let tree =
        resvg::usvg::Tree::from_str(svg, &options).map_err(|e| PlotError::Render(Box::new(e)))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or(PlotError::Size("empty figure"))?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or(PlotError::Size("figure too large for a bitmap"))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PlotError::Render(Box::new(e)))
}

/// Writes an SVG document to `path` as SVG or PNG.
fn write_figure(path: &Path, svg: &str) -> Result<(), PlotError> {
    let bytes = match Format::of(path) {
        Format::Svg => svg.as_bytes().to_vec(),
        Format::Png => svg_to_png(svg, 2.0)?,
    };
    std::fs::write(path, bytes).map_err(PlotError::Write)
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

/// Writes every figure of `out` (an `estimate` or `merge` JSON object) for `--plot path`
/// and returns the paths written: `path`, and `STEM-training.EXT`, `STEM-inactive.EXT`
/// where the result has training outcomes, respectively inactive counts.
///
/// # Errors
/// A drawing or rendering error, or an unwritable path, as text.
pub fn write_plots(path: &Path, out: &Value) -> Result<Vec<PathBuf>, PlotError> {
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
